"""Packed causal-LM sequences: tokenize once, join documents with eos, cut fixed-length blocks.

TextDataModule serves {"tokens": Long[B, T]} batches from a Mixture or a list of texts. The
blocks are built once in setup() (tokenization is batched in the Rust backend) and held in
memory as one tensor; the dataset is map-style, the training order is shuffled by a seeded
generator and num_workers defaults to 0, so no two workers ever see the same data.
"""

from __future__ import annotations

from typing import Sequence

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from atelier.data.mixture import Mixture
from atelier.data.tokenizer import TextTokenizer

CHUNK_DOCS = 256  # documents tokenized per batch call when drawing from a mixture


def pack(token_lists: Sequence[Sequence[int]], block_size: int, eos_id: int) -> torch.Tensor:
    """Long[N, block_size]: documents each followed by eos, concatenated and cut into blocks
    (the incomplete last block is dropped)."""
    pieces = [np.append(np.asarray(ids, dtype=np.int64), eos_id) for ids in token_lists]
    flat = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)  # [total tokens]
    n_blocks = flat.size // block_size
    return torch.from_numpy(flat[: n_blocks * block_size].reshape(n_blocks, block_size))  # [N, T]


def pack_texts(tokenizer: TextTokenizer, texts: Sequence[str], block_size: int) -> torch.Tensor:
    """Long[N, block_size] blocks of texts (see pack)."""
    return pack(tokenizer.encode_batch(texts), block_size, tokenizer.eos_id)


def mixture_blocks(mixture: Mixture, tokenizer: TextTokenizer, block_size: int, n_tokens: int,
                   chunk_docs: int = CHUNK_DOCS) -> torch.Tensor:
    """Blocks holding at least n_tokens tokens drawn from mixture (whole documents, in draw order),
    tokenized chunk_docs documents at a time (fewer for long documents avoids tokenizing surplus)."""
    token_lists: list[list[int]] = []
    total = 0
    while total < n_tokens + block_size:  # one spare block: packing drops the incomplete tail
        encoded = tokenizer.encode_batch(mixture.texts(chunk_docs))
        token_lists.extend(encoded)
        total += sum(len(ids) + 1 for ids in encoded)
    return pack(token_lists, block_size, tokenizer.eos_id)


class BlockDataset(Dataset):
    """Map-style dataset over a Long[N, T] tensor of blocks; item i is {"tokens": Long[T]}."""

    def __init__(self, blocks: torch.Tensor) -> None:
        self.blocks = blocks

    def __len__(self) -> int:
        return self.blocks.shape[0]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"tokens": self.blocks[i]}


class TextDataModule(L.LightningDataModule):
    """Packed next-token batches {"tokens": Long[batch_size, block_size]}.

    train / val: a Mixture (then train_tokens / val_tokens say how many tokens to draw) or a
    list of texts (all used). With a Mixture and no val, validation uses the same weights on
    the "val" split; with texts and no val, there is no validation.
    """

    def __init__(
        self,
        tokenizer: TextTokenizer,
        train: Mixture | Sequence[str],
        val: Mixture | Sequence[str] | None = None,
        block_size: int = 128,
        batch_size: int = 32,
        train_tokens: int = 1_000_000,
        val_tokens: int | None = None,
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if block_size < 2 or batch_size < 1:
            raise ValueError(f"block_size must be >= 2 and batch_size >= 1, got {block_size}, {batch_size}")
        self.tokenizer, self.train_source, self.val_source = tokenizer, train, val
        if val is None and isinstance(train, Mixture):
            self.val_source = train.with_split("val")
        self.block_size, self.batch_size, self.seed, self.num_workers = block_size, batch_size, seed, num_workers
        self.train_tokens = train_tokens
        self.val_tokens = val_tokens if val_tokens is not None else max(train_tokens // 10, block_size * batch_size)
        self.train_blocks: torch.Tensor | None = None
        self.val_blocks: torch.Tensor | None = None

    def _blocks(self, source: Mixture | Sequence[str], n_tokens: int) -> torch.Tensor:
        if isinstance(source, Mixture):
            return mixture_blocks(source, self.tokenizer, self.block_size, n_tokens)
        return pack_texts(self.tokenizer, list(source), self.block_size)

    def setup(self, stage: str | None = None) -> None:
        if self.train_blocks is None:
            self.train_blocks = self._blocks(self.train_source, self.train_tokens)
            if self.train_blocks.shape[0] < self.batch_size:
                raise ValueError(
                    f"only {self.train_blocks.shape[0]} training blocks of {self.block_size} tokens for batch_size "
                    f"{self.batch_size}: give more text or train_tokens, or a smaller block or batch"
                )
        if self.val_blocks is None and self.val_source is not None:
            self.val_blocks = self._blocks(self.val_source, self.val_tokens)

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(
            BlockDataset(self.train_blocks), batch_size=self.batch_size, shuffle=True,
            drop_last=True, generator=generator, num_workers=self.num_workers,
        )  # fmt: skip

    def val_dataloader(self) -> DataLoader | list:
        if self.val_blocks is None:
            return []
        return DataLoader(BlockDataset(self.val_blocks), batch_size=self.batch_size, num_workers=self.num_workers)
