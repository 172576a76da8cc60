"""Prompts for the three generation tasks and the decoding of their samples.

A prompt is a MultimodalVocab example with its condition visible and every target position set
to <mask> (the target's opening boundary stays visible, as in training); sampling fills the
masks. Text-to-image prompts are captions of each digit, text-to-speech prompts the spoken words,
text prompts the first tokens of held-out documents (a continuation), image-to-text prompts
held-out digit images.
"""

from __future__ import annotations

import numpy as np
import torch

from atelier.data.media import CAPTION_TEMPLATES, caption
from atelier.data.media.image import N_TOKENS
from atelier.data.splits import unit_hash
from atelier.studies.trimodal_diffusion.data import StudyData


def t2i_prompts(data: StudyData, n: int, start: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    """Captions start..start+n-1 of one sequence (digits 0..9 in turn, phrasings in turn; its 70
    distinct captions recur every 70 prompts) -> (prompts [n, T], digit labels [n])."""
    index = start + np.arange(n)
    labels = index % 10
    captions = [caption(int(label), (i // 10) % len(CAPTION_TEMPLATES)) for i, label in zip(index, labels)]
    return torch.stack([data.vocab.prompt("t2i", c, data.seq_len).tokens for c in captions]), labels


def tts_prompts(data: StudyData, n: int, start: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    """Spoken-word prompts start..start+n-1, the words in turn -> (prompts [n, T], word indices [n])."""
    labels = (start + np.arange(n)) % len(data.words)
    return torch.stack([data.vocab.prompt("tts", data.words[i], data.seq_len).tokens for i in labels]), labels


def text_prompts(data: StudyData, n: int, prefix: int, val_fraction: float = 0.1) -> tuple[torch.Tensor, list[str]]:
    """Continuations of n held-out documents: their first `prefix` text tokens stay visible."""
    held_out = [t for t, h in zip(data.texts, unit_hash(data.texts)) if h < val_fraction][:n]
    prompts, prefixes = [], []
    for text in held_out:
        ids = data.vocab.text.encode(text)[:prefix]
        example = data.vocab.prompt("text", None, data.seq_len).tokens  # <task:text> <bos> <mask> ...
        example[2:2 + len(ids)] = torch.tensor(data.vocab.content_ids("text", ids))
        prompts.append(example)
        prefixes.append(data.vocab.text.decode(ids))
    return torch.stack(prompts), prefixes


def i2t_prompts(data: StudyData, per_digit: int = 1, val_fraction: float = 0.1) -> tuple[torch.Tensor, np.ndarray]:
    """Held-out digit images, per_digit of each digit -> (prompts [n, T], labels [n])."""
    images = data.images.filter(unit_hash(data.images["id"].to_list()) < val_fraction)
    chosen = [row for digit in range(10) for row in images.filter(images["label"] == digit).head(per_digit)
              .iter_rows(named=True)]
    prompts = [data.vocab.prompt("i2t", np.asarray(r["image"]), data.seq_len).tokens for r in chosen]
    return torch.stack(prompts), np.array([r["label"] for r in chosen])


def target_image(data: StudyData, tokens: torch.Tensor) -> np.ndarray:
    """A sample's image codes [64]: missing positions read as 0 (black), extra ones are cut."""
    codes = data.vocab.decode(tokens)["target"]
    codes = np.zeros(0, np.int64) if codes is None else np.asarray(codes)[:N_TOKENS]
    return np.pad(codes, (0, N_TOKENS - len(codes)))


def target_audio(data: StudyData, tokens: torch.Tensor) -> np.ndarray:
    """A sample's audio codes [n] (possibly empty)."""
    codes = data.vocab.decode(tokens)["target"]
    return np.zeros(0, np.int64) if codes is None else np.asarray(codes)


def target_text(data: StudyData, tokens: torch.Tensor, skip: int = 0) -> str:
    """A sample's text target after its first `skip` text tokens (e.g. a visible prefix)."""
    segments = [ids for modality, ids in data.vocab.split(tokens) if modality == "text"]
    return data.vocab.content("text", segments[-1][skip:]) if segments else ""
