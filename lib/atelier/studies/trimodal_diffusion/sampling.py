"""Experiment 5, sampling defaults: steps x temperature x unmasking order -> quality per modality.

Quality of a sampler on the trained model: text-to-image, the accuracy of a digit classifier on
the samples against the prompted digit; text-to-speech, the accuracy of a spoken-word classifier
(trained on other espeak-ng voices) on the sampled audio codes against the prompted word; text,
the perplexity of continuations under SmolLM2-135M. Orders: MDLM ancestral, confidence top-k,
uniformly random (all with `steps` model calls), and the Fast-dLLM confidence threshold (as many
calls as it needs; its mean NFE is reported).

An accuracy cannot see diversity: greedy decoding (temperature 0) returns each digit's prototype
(confidence top-k at temperature 0 gives one image per caption), and greedy text repeats "the",
which SmolLM2 finds very likely. So the grid also reports the within-digit diversity of the
drawn images relative to real digits, and the default is chosen among samplers of the model's own
distribution (temperature 1): the fixed-step (order, steps) other than random with the best mean
of the two accuracies on the selection draws. It is then compared with random unmasking at the
same steps and temperature on separate evaluation draws, prompt by prompt (a paired standard error).
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import torch
import torch.nn.functional as F

from atelier.diffusion import sample
from atelier.studies.trimodal_diffusion.config import Config
from atelier.studies.trimodal_diffusion.data import StudyData
from atelier.studies.trimodal_diffusion.prompts import (t2i_prompts, target_audio, target_image, target_text,
                                                        text_prompts, tts_prompts)


def image_hits(data: StudyData, classifier, samples: torch.Tensor, labels: np.ndarray) -> np.ndarray:
    """Bool [n]: each text-to-image sample [n, T] classified as its prompted digit."""
    images = np.stack([target_image(data, row) for row in samples])
    return classifier.predict(images) == labels


def audio_hits(data: StudyData, classifier, samples: torch.Tensor, labels: np.ndarray) -> np.ndarray:
    """Bool [n]: each text-to-speech sample classified as its prompted word (an empty one is wrong)."""
    utterances = [target_audio(data, row) for row in samples]
    spoken = [i for i, codes in enumerate(utterances) if len(codes)]
    predicted = np.full(len(utterances), -1)
    if spoken:
        predicted[spoken] = classifier.predict([utterances[i] for i in spoken])
    return predicted == labels


def within_class_spread(codes: np.ndarray, labels: np.ndarray) -> float:
    """Mean L1 distance between two images [n, 64] of the same label, averaged over labels (a
    diversity: 0 when every label has one image)."""
    spreads = []
    for label in np.unique(labels):
        x = torch.as_tensor(codes[labels == label], dtype=torch.float64)  # [m, 64]
        if len(x) > 1:
            spreads.append(float(torch.pdist(x, p=1).mean()))
    return float(np.mean(spreads))


def image_diversity(data: StudyData, samples: torch.Tensor, labels: np.ndarray) -> float:
    """Within-digit spread of text-to-image samples relative to that of the real digits (1: as varied
    as the data; near 0: one prototype per digit)."""
    images = np.stack([target_image(data, row) for row in samples])
    real = np.stack(data.images["image"].to_list())
    return within_class_spread(images, labels) / within_class_spread(real, data.images["label"].to_numpy())


@torch.no_grad()
def continuation_perplexity(lm, prefixes: list[str], continuations: list[str], max_tokens: int = 48) -> float:
    """Perplexity of each continuation given its prefix under a causal LM (pooled over tokens;
    the first max_tokens continuation tokens of each)."""
    nll, count = 0.0, 0
    for prefix, continuation in zip(prefixes, continuations):
        start = len(lm.tokenizer(prefix, add_special_tokens=False).input_ids)
        ids = lm.tokenizer(prefix + continuation, add_special_tokens=False).input_ids[:start + max_tokens]
        if len(ids) <= start or start == 0:
            continue
        ids = torch.tensor([ids], device=lm.model.device)
        logits = lm.model(ids).logits[0, start - 1:-1]  # [n, V]: predictions of the continuation tokens
        nll += float(F.cross_entropy(logits.float(), ids[0, start:], reduction="sum"))
        count += ids.shape[1] - start
    return math.exp(nll / count) if count else math.nan


def settings(cfg: Config) -> list[dict]:
    """Every sampler of the grid: fixed-step orders x steps x temperatures, then thresholds x temperatures."""
    fixed = [{"order": o, "steps": s, "temperature": t, "tau": None}
             for o in cfg.sampler_orders for s in cfg.sampler_steps for t in cfg.sampler_temperatures]
    return fixed + [{"order": "threshold", "steps": None, "temperature": t, "tau": tau}
                    for tau in cfg.threshold_taus for t in cfg.sampler_temperatures]


def draw(model, data: StudyData, prompts: torch.Tensor, setting: dict, seed: int) -> tuple[torch.Tensor, float]:
    """Samples of one setting and their mean number of model calls."""
    kwargs = {"steps": setting["steps"]} if setting["tau"] is None else {"tau": setting["tau"]}
    out, nfe = sample(model, prompts, mask_id=data.vocab.mask_id, method=setting["order"], temperature=setting["temperature"],
                      generator=torch.Generator().manual_seed(seed), **kwargs)
    return out, float(nfe.float().mean())


def sampler_grid(cfg: Config, model, data: StudyData, digit_clf, word_clf, lm, seed: int) -> pl.DataFrame:
    """One row per sampler setting: NFE and quality on each modality, on the selection draws
    (prompts from the start of each prompt sequence, sampled from `seed`)."""
    model.eval()
    images, digits = t2i_prompts(data, cfg.image_prompts)
    speech, words = tts_prompts(data, cfg.audio_prompts)
    texts, prefixes = text_prompts(data, cfg.text_prompts, cfg.text_prefix)
    rows = []
    for setting in settings(cfg):
        image_samples, nfe = draw(model, data, images, setting, seed)
        audio_samples, _ = draw(model, data, speech, setting, seed)
        text_samples, _ = draw(model, data, texts, setting, seed)
        continuations = [target_text(data, row, skip=cfg.text_prefix) for row in text_samples]
        rows.append({**setting, "nfe_image": nfe,
                     "image_accuracy": float(image_hits(data, digit_clf, image_samples, digits).mean()),
                     "image_diversity": image_diversity(data, image_samples, digits),
                     "audio_accuracy": float(audio_hits(data, word_clf, audio_samples, words).mean()),
                     "text_perplexity": continuation_perplexity(lm, prefixes, continuations)})
    return pl.DataFrame(rows).with_columns(quality=(pl.col("image_accuracy") + pl.col("audio_accuracy")) / 2)


def choose_default(grid: pl.DataFrame, temperature: float = 1.0) -> dict:
    """The fixed-step (order, steps) at `temperature` with the best quality (not random)."""
    best = (grid.filter(pl.col("steps").is_not_null() & (pl.col("order") != "random")
                        & (pl.col("temperature") == temperature))
            .sort("quality", "order", "steps", descending=[True, False, False]).row(0, named=True))
    return {"order": best["order"], "steps": best["steps"], "temperature": temperature}


def paired_margin(chosen: np.ndarray, baseline: np.ndarray) -> tuple[float, float]:
    """Mean of chosen - baseline over paired prompts and its standard error."""
    diff = np.asarray(chosen, float) - np.asarray(baseline, float)
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff)))


def versus_random(cfg: Config, model, data: StudyData, default: dict, digit_clf, word_clf, seed: int
                  ) -> pl.DataFrame:
    """The default against random unmasking at its steps and temperature on the evaluation draws:
    prompts after the selection ones, sampled from another seed. One row per modality (accuracy of
    each, paired margin and its standard error) and a "pooled" row (the mean of the two margins)."""
    model.eval()
    start = max(cfg.image_prompts, cfg.audio_prompts)
    evaluation_seed = seed + 100_003  # a generator stream no selection draw of a nearby seed uses
    images, digits = t2i_prompts(data, cfg.eval_image_prompts, start)
    speech, words = tts_prompts(data, cfg.eval_audio_prompts, start)
    hits = {}
    for order in (default["order"], "random"):
        setting = {**default, "order": order, "tau": None}
        image_samples, _ = draw(model, data, images, setting, evaluation_seed)
        audio_samples, _ = draw(model, data, speech, setting, evaluation_seed)
        hits[order] = {"image": image_hits(data, digit_clf, image_samples, digits),
                       "audio": audio_hits(data, word_clf, audio_samples, words)}
    rows = []
    for modality in ("image", "audio"):
        chosen, random = hits[default["order"]][modality], hits["random"][modality]
        margin, se = paired_margin(chosen, random)
        rows.append({"modality": modality, "prompts": len(chosen), "default": float(chosen.mean()),
                     "random": float(random.mean()), "margin": margin, "se": se})
    pooled = {"modality": "pooled", "prompts": sum(r["prompts"] for r in rows),
              **{k: float(np.mean([r[k] for r in rows])) for k in ("default", "random", "margin")},
              "se": float(np.hypot(*[r["se"] for r in rows]) / 2)}
    return pl.DataFrame(rows + [pooled]).with_columns(order=pl.lit(default["order"]), steps=default["steps"],
                                                      temperature=default["temperature"])
