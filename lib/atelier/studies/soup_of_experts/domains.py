"""The domains and batches drawn from a mixture h of them.

Each domain's documents are tokenized once, joined with eos and cut into blocks of
``block_size`` tokens (atelier.data's Mixture and packing helpers), so a domain is a tensor of
blocks and every block is the same number of tokens: the domain weights h are shares of
tokens, as in the paper. A batch from mixture h draws each row's domain from h and then a
random block of that domain; ``MixtureBatches`` yields such batches forever, with a fresh h
from a meta-distribution at every step (the soup) or a fixed h (generalist, specialists).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import torch
from torch.utils.data import IterableDataset

from atelier.data import Mixture, TextTokenizer
from atelier.data.datamodule import mixture_blocks

CHARS_PER_TOKEN = 4.0  # a generous estimate for the default BPE tokenizer, to size tokenization chunks


def domain_blocks(tokenizer: TextTokenizer, domains, split: str, n_blocks: int, block_size: int,
                  seed: int = 0) -> dict[str, torch.Tensor]:
    """domain -> Long[n_blocks, block_size]: the first blocks of its documents in a seeded order."""
    blocks = {}
    for domain in domains:
        mixture = Mixture({domain: 1.0}, seed=seed, split=split)
        n_tokens = n_blocks * block_size
        # tokenize about a quarter of the needed text per call (at ~4 characters a token)
        mean_chars = mixture.documents(domain)["text"].str.len_chars().mean()
        chunk_docs = int(np.clip(n_tokens * CHARS_PER_TOKEN / mean_chars / 4, 1, 256))
        blocks[domain] = mixture_blocks(mixture, tokenizer, block_size, n_tokens, chunk_docs)[:n_blocks]
    return blocks


def describe_domains(train: dict[str, torch.Tensor], val: dict[str, torch.Tensor]) -> pl.DataFrame:
    """One row per domain: blocks and tokens held for training and validation."""
    return pl.DataFrame({
        "domain": list(train),
        "train_blocks": [b.shape[0] for b in train.values()],
        "train_tokens": [b.numel() for b in train.values()],
        "val_blocks": [val[d].shape[0] for d in train],
        "val_tokens": [val[d].numel() for d in train],
    })


class MixtureBatches(IterableDataset):
    """Endless batches {"tokens": Long[B, T], "h": Float[n_domains]} from mixtures h ~ meta(rng).

    blocks: domain -> Long[N_d, T] (domain order = the order of h); meta: a callable
    rng -> h (SparseDirichlet, Fixed). Use with DataLoader(dataset, batch_size=None).
    """

    def __init__(self, blocks: dict[str, torch.Tensor], meta, batch_size: int, seed: int = 0):
        self.all_blocks = torch.cat(list(blocks.values()))  # [sum N_d, T]
        counts = np.array([b.shape[0] for b in blocks.values()])
        self.starts, self.counts = np.cumsum(counts) - counts, counts
        self.meta, self.batch_size, self.seed = meta, batch_size, seed

    def batch(self, h: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        """Long[B, T]: each row a random block of a domain drawn from h."""
        domain = rng.choice(len(h), size=self.batch_size, p=h)  # [B]
        rows = self.starts[domain] + rng.integers(0, self.counts[domain])  # [B]
        return self.all_blocks[torch.from_numpy(rows)]

    def __iter__(self):
        rng = np.random.default_rng(self.seed)
        while True:
            h = self.meta(rng)
            yield {"tokens": self.batch(h, rng), "h": torch.tensor(h, dtype=torch.float32)}
