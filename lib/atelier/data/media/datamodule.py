"""Padded multimodal examples for masked diffusion, drawn from a weighted mixture of text, image-text and
audio-text.

Each example is one fixed-length sequence laid out by MultimodalVocab. Example i of a split is a
pure function of (seed, split, i): its kind is drawn by the mixture weights, then an item of that
kind's pool and, for pairs, a direction (captioning or generation, ASR or TTS). The order is
therefore fixed by the seed and independent of workers. Batches are dicts

    tokens Long[B, T], loss_mask Bool[B, T] (True = may be noised), modality Long[B, T]
    (per token, index into MODALITIES), task Long[B] (index into TASKS)
    and, when pads are not noisable, attention_mask Bool[B, T] (True = real token)

which is what atelier.diffusion.MaskedDiffusionLoss consumes ("tokens", "loss_mask",
"attention_mask"); the extra keys let a study split the loss by modality and task. By default
the trailing pads are part of each target (noisable_pads=True), so the model learns where a
text or audio target ends and no attention mask is needed.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import polars as pl
import torch
from torch.utils.data import DataLoader, Dataset

from atelier.data.media.vocab import TASKS, MultimodalVocab
from atelier.data.splits import unit_hash

KINDS = {"text": ("text",), "image": ("t2i", "i2t"), "audio": ("tts", "asr")}  # mixture kind -> its tasks
_SPLIT_SEED = {"train": 0, "val": 1}


class MixtureDataset(Dataset):
    """`length` examples; example i is drawn from the pools with rng seeded by (seed, split, i)."""

    def __init__(self, vocab: MultimodalVocab, pools: dict[str, list], weights: dict[str, float], seq_len: int,
                 length: int, seed: int, split: str, noisable_pads: bool = True):
        self.vocab, self.pools, self.seq_len, self.length = vocab, pools, seq_len, length
        self.noisable_pads = noisable_pads
        self.kinds = [k for k, w in weights.items() if w > 0]
        p = np.array([weights[k] for k in self.kinds], dtype=np.float64)
        self.p = p / p.sum()
        self.seed = (seed, _SPLIT_SEED[split])
        self.task_index = {t: i for i, t in enumerate(TASKS)}

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        rng = np.random.default_rng([*self.seed, i])
        kind = self.kinds[rng.choice(len(self.kinds), p=self.p)]
        task = KINDS[kind][rng.integers(len(KINDS[kind]))]
        pool = self.pools[kind]
        item = pool[rng.integers(len(pool))]
        if kind == "text":
            example = self.vocab.encode("text", self._crop(item, rng), length=self.seq_len,
                                        noisable_pads=self.noisable_pads)
        else:
            text, media = item  # generation conditions on the text, captioning / ASR on the media
            target, condition = (media, text) if task in ("t2i", "tts") else (text, media)
            example = self.vocab.encode(task, target, condition, length=self.seq_len, noisable_pads=self.noisable_pads)
        out = {"tokens": example.tokens, "loss_mask": example.loss_mask,
               "modality": self.vocab.modality_of(example.tokens), "task": torch.tensor(self.task_index[task])}
        if not self.noisable_pads:
            out["attention_mask"] = example.tokens != self.vocab.pad_id  # key padding: True = real token
        return out

    def _crop(self, text: str, rng: np.random.Generator) -> list[int]:
        """Text ids that fit: all of them when short enough, else a random window."""
        ids = self.vocab.text.encode(text)
        budget = self.seq_len - 3  # <task:text> <bos> ... <eos>
        start = rng.integers(max(1, len(ids) - budget + 1))
        return ids[start:start + budget]


class MultimodalDataModule(L.LightningDataModule):
    """Train / val loaders over a text + image-caption + speech-text mixture.

    texts: documents for the text-only task; images: digits_pairs() frame (image codes, caption);
    speech: speech_pairs() frame (text, waveform), encoded with vocab.audio once at setup.
    weights: {"text": w, "image": w, "audio": w}, relative (study 01 sweeps them). Pairs and texts
    are split by a hash of their id or text (val_fraction held out).
    """

    def __init__(self, vocab: MultimodalVocab, texts: list[str], images: pl.DataFrame, speech: pl.DataFrame,
                 weights: dict[str, float] | None = None, seq_len: int = 128, batch_size: int = 32,
                 train_examples: int = 10_000, val_examples: int = 512, val_fraction: float = 0.1, seed: int = 0,
                 noisable_pads: bool = True, num_workers: int = 0):
        super().__init__()
        weights = dict(weights or {"text": 1.0, "image": 1.0, "audio": 1.0})
        if set(weights) - set(KINDS) or not any(w > 0 for w in weights.values()) or min(weights.values()) < 0:
            raise ValueError(f"weights {weights} must be non-negative over {list(KINDS)} with a positive one")
        self.vocab, self.weights, self.seq_len, self.batch_size = vocab, weights, seq_len, batch_size
        self.sizes = {"train": train_examples, "val": val_examples}
        self.sources = {"text": texts, "image": images, "audio": speech}
        self.val_fraction, self.seed, self.num_workers = val_fraction, seed, num_workers
        self.noisable_pads = noisable_pads
        self.datasets: dict[str, MixtureDataset] = {}

    def _pools(self) -> dict[str, dict[str, list]]:
        """kind -> split -> items: text str, or (text, codes) for pairs."""
        texts, images, speech = self.sources["text"], self.sources["image"], self.sources["audio"]
        items = {"text": list(texts),
                 "image": list(zip(images["caption"], (np.asarray(x) for x in images["image"]))),
                 "audio": [(t, self.vocab.audio.encode(np.asarray(w)))
                           for t, w in zip(speech["text"], speech["waveform"])]}
        keys = {"text": list(texts), "image": images["id"].to_list(), "audio": speech["id"].to_list()}
        pools = {}
        for kind in KINDS:
            val = unit_hash(keys[kind]) < self.val_fraction  # Bool[N], fixed by each item's key
            pools[kind] = {"train": [x for x, v in zip(items[kind], val) if not v],
                           "val": [x for x, v in zip(items[kind], val) if v]}
        # a pair takes <task> <open> text <close> <open> media <close>
        for kind in [k for k in ("image", "audio") if self.weights.get(k, 0) > 0]:
            lengths = [len(self.vocab.content_ids("text", t)) + len(m) + 5 for t, m in items[kind]]
            if lengths and max(lengths) > self.seq_len:
                raise ValueError(f"the longest {kind}-text pair needs {max(lengths)} tokens > seq_len {self.seq_len}: "
                                 "raise seq_len or use shorter texts")
        for kind, w in self.weights.items():
            empty = [split for split, pool in pools[kind].items() if w > 0 and not pool]
            if empty:
                raise ValueError(f"mixture kind {kind!r} has weight {w} but no {empty} items")
        return pools

    def setup(self, stage: str | None = None) -> None:
        if self.datasets:
            return
        pools = self._pools()
        for split, n in self.sizes.items():
            self.datasets[split] = MixtureDataset(self.vocab, {k: p[split] for k, p in pools.items()},
                                                  self.weights, self.seq_len, n, self.seed, split, self.noisable_pads)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.datasets["train"], self.batch_size, shuffle=False, num_workers=self.num_workers)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.datasets["val"], self.batch_size, shuffle=False, num_workers=self.num_workers)
