"""Experiment 5, sampling defaults: steps x temperature x unmasking order -> quality per modality.

Quality of a sampler on the trained model: text-to-image, the accuracy of a digit classifier on
the samples against the prompted digit; text-to-speech, the accuracy of a spoken-word classifier
(trained on other espeak-ng voices) on the sampled audio codes against the prompted word; text,
the perplexity of continuations under SmolLM2-135M. Orders: MDLM ancestral, confidence top-k,
uniformly random (all with `steps` model calls), and the Fast-dLLM confidence threshold (as many
calls as it needs; its mean NFE is reported). The default is the (order, temperature) with the
best mean of the two accuracies over the step counts, among the fixed-step orders other than
random, which it is then compared with at equal steps and temperature.
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


def image_accuracy(data: StudyData, classifier, samples: torch.Tensor, labels: np.ndarray) -> float:
    """Share of text-to-image samples [n, T] classified as their prompted digit."""
    images = np.stack([target_image(data, row) for row in samples])
    return float((classifier.predict(images) == labels).mean())


def audio_accuracy(data: StudyData, classifier, samples: torch.Tensor, labels: np.ndarray) -> float:
    """Share of text-to-speech samples classified as their prompted word (an empty one is wrong)."""
    utterances = [target_audio(data, row) for row in samples]
    spoken = [i for i, codes in enumerate(utterances) if len(codes)]
    predicted = np.full(len(utterances), -1)
    if spoken:
        predicted[spoken] = classifier.predict([utterances[i] for i in spoken])
    return float((predicted == labels).mean())


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
    """One row per sampler setting: NFE and quality on each modality."""
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
                     "image_accuracy": image_accuracy(data, digit_clf, image_samples, digits),
                     "audio_accuracy": audio_accuracy(data, word_clf, audio_samples, words),
                     "text_perplexity": continuation_perplexity(lm, prefixes, continuations)})
    return pl.DataFrame(rows).with_columns(quality=(pl.col("image_accuracy") + pl.col("audio_accuracy")) / 2)


def choose_default(grid: pl.DataFrame) -> dict:
    """The (order, temperature) with the best quality averaged over step counts (not random)."""
    best = (grid.filter(pl.col("steps").is_not_null() & (pl.col("order") != "random"))
            .group_by("order", "temperature").agg(pl.col("quality").mean())
            .sort("quality", "order", "temperature", descending=[True, False, False]).row(0, named=True))
    return {"order": best["order"], "temperature": best["temperature"]}


def versus_random(grid: pl.DataFrame, default: dict) -> pl.DataFrame:
    """The default and random unmasking at each step count, same temperature."""
    same_t = grid.filter((pl.col("temperature") == default["temperature"]) & pl.col("steps").is_not_null())
    chosen = same_t.filter(pl.col("order") == default["order"]).select("steps", default=pl.col("quality"))
    random = same_t.filter(pl.col("order") == "random").select("steps", random=pl.col("quality"))
    return chosen.join(random, on="steps").sort("steps").with_columns(margin=pl.col("default") - pl.col("random"))
