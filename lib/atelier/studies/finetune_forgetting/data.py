"""The study's token blocks and the finetuning stream with pretraining data injected.

Pretraining draws a general English mixture (character shares); each target domain is held
out of it. A target set of D unique tokens is the first D / seq_len blocks of the domain's
training blocks, so the sets are nested: a larger set holds every smaller one.

Injection. A finetuning run of n sequences mixes a fraction p of pretraining sequences into
the target stream. With a batch of 16 sequences, p = 1% is a sixth of a sequence per batch, so
the mixture is realised over the whole run, not per batch: slot i of the stream holds a
pretraining sequence iff the systematic sample floor((i + 1) p + u) - floor(i p + u) is 1,
with one uniform offset u per run. Every slot is then injected with probability exactly p
(a Bernoulli per sequence in expectation), the run holds floor(n p) or ceil(n p) injected
sequences (no run of p = 0.1% ends up with none by bad luck), and they are spread evenly
along the run. Target sequences cycle through the target set in a fresh order every epoch,
so a small set is seen many times and the model overfits it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch.utils.data import DataLoader

from atelier.data import Mixture, TextTokenizer, get_tokenizer
from atelier.data.datamodule import BlockDataset, mixture_blocks
from atelier.studies.finetune_forgetting.config import Config
from atelier.studies.finetune_forgetting.models import pretrain_steps

CHUNK_DOCS = 8  # documents tokenized per call: code and man pages are long, few are needed


@dataclasses.dataclass(frozen=True)
class Corpora:
    """Token blocks Long[n, seq_len] of every split the study uses."""

    tokenizer: TextTokenizer
    pretrain: torch.Tensor  # pretraining stream (each block seen once), also the injection pool
    pretrain_val: torch.Tensor
    target: dict[str, torch.Tensor]  # domain -> training blocks of the largest target set
    target_val: dict[str, torch.Tensor]
    law_val: dict[str, torch.Tensor]  # the larger target validation sets that locate the early stop

    def target_set(self, domain: str, tokens: int) -> torch.Tensor:
        """The first tokens / seq_len training blocks of ``domain`` (nested across sizes)."""
        blocks = self.target[domain]
        n = tokens // blocks.shape[1]
        if not 1 <= n <= blocks.shape[0]:
            raise ValueError(f"target set of {tokens} tokens needs 1..{blocks.shape[0]} blocks of "
                             f"{blocks.shape[1]} tokens, got {n}")
        return blocks[:n]


def _blocks(domains: dict[str, float], split: str, tokenizer: TextTokenizer, seq_len: int, n_blocks: int,
            seed: int) -> torch.Tensor:
    mixture = Mixture(domains, seed=seed, split=split, unit="characters")
    return mixture_blocks(mixture, tokenizer, seq_len, n_blocks * seq_len, chunk_docs=CHUNK_DOCS)[:n_blocks]


def build_corpora(cfg: Config, seed: int = 0) -> Corpora:
    """Tokenize the pretraining mixture and the targets into blocks of cfg.seq_len tokens."""
    tokenizer = get_tokenizer(cfg.tokenizer, vocab_size=cfg.vocab_size)
    overlap = set(cfg.targets) & set(cfg.pretrain_domains)
    if overlap:
        raise ValueError(f"targets {sorted(overlap)} are also pretraining domains; a target must be held out")
    pretrain = {d: 1.0 for d in cfg.pretrain_domains}
    target_blocks = max(cfg.target_tokens) // cfg.seq_len
    stream_blocks = max(pretrain_steps(cfg, width) for width in cfg.widths) * cfg.pretrain_batch  # the largest budget
    val = {d: _blocks({d: 1.0}, "val", tokenizer, cfg.seq_len, max(cfg.val_blocks, cfg.law_val_blocks), seed)
           for d in cfg.targets}
    return Corpora(
        tokenizer=tokenizer,
        pretrain=_blocks(pretrain, "train", tokenizer, cfg.seq_len, stream_blocks, seed),
        pretrain_val=_blocks(pretrain, "val", tokenizer, cfg.seq_len, cfg.val_blocks, seed),
        target={d: _blocks({d: 1.0}, "train", tokenizer, cfg.seq_len, target_blocks, seed) for d in cfg.targets},
        target_val={d: blocks[:cfg.val_blocks] for d, blocks in val.items()},
        law_val={d: blocks[:cfg.law_val_blocks] for d, blocks in val.items()},
    )


def injection_mask(n: int, p: float, offset: float) -> np.ndarray:
    """Bool[n]: which of n stream slots hold a pretraining sequence (systematic sample of rate p).

    offset in [0, 1) is the run's uniform draw; over offsets every slot is injected with
    probability p, and every run holds floor(n p) or ceil(n p) injected slots.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"injection fraction p={p} must be in [0, 1]")
    if not 0.0 <= offset < 1.0:
        raise ValueError(f"offset={offset} must be in [0, 1)")
    edges = np.floor(np.arange(n + 1) * p + offset)  # [n + 1]
    return np.diff(edges) > 0


def finetune_stream(target: torch.Tensor, pretrain: torch.Tensor, p: float, n: int,
                    seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """Long[n, T] finetuning sequences in training order, and the Bool[n] injection mask.

    Target slots take the target blocks epoch by epoch, each epoch in a fresh random order;
    injected slots take pretraining blocks drawn without replacement.
    """
    rng = np.random.default_rng(seed)
    injected = injection_mask(n, p, rng.random())
    n_target, n_injected = int((~injected).sum()), int(injected.sum())
    epochs = -(-n_target // target.shape[0])
    order = np.concatenate([rng.permutation(target.shape[0]) for _ in range(epochs)])[:n_target]
    if n_injected > pretrain.shape[0]:
        raise ValueError(f"{n_injected} injected sequences but only {pretrain.shape[0]} pretraining blocks")
    stream = torch.empty(n, target.shape[1], dtype=target.dtype)  # [n, T]
    stream[torch.from_numpy(~injected)] = target[torch.from_numpy(order)]
    stream[torch.from_numpy(injected)] = pretrain[torch.from_numpy(rng.choice(pretrain.shape[0], n_injected,
                                                                                replace=False))]
    return stream, injected


def loader(blocks: torch.Tensor, batch_size: int, shuffle: bool = False, seed: int = 0) -> DataLoader:
    """Batches {"tokens": Long[batch_size, T]} of blocks, in order unless shuffle."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(BlockDataset(blocks), batch_size=batch_size, shuffle=shuffle, generator=generator,
                      drop_last=shuffle)
