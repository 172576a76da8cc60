"""A tiny stand-in language model, token data and a launchable job for the training tests.

The stand-in has the backbone interface the trainer relies on (tokens Long[B, T] -> logits
[B, T, V]) and no ``flops_per_token``, so its FLOPs are counted; its architecture is simple
enough to count FLOPs by hand: embedding, one causal attention layer, an MLP, an unembedding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from atelier.train import NextTokenLoss, TrainingJob


class TinyLM(nn.Module):
    def __init__(self, vocab_size: int = 11, width: int = 16, n_heads: int = 2, mlp: int = 32, causal: bool = True):
        super().__init__()
        self.n_heads, self.causal = n_heads, causal
        self.embed = nn.Embedding(vocab_size, width)
        self.qkv = nn.Linear(width, 3 * width, bias=False)
        self.proj = nn.Linear(width, width, bias=False)
        self.up = nn.Linear(width, mlp, bias=False)
        self.down = nn.Linear(mlp, width, bias=False)
        self.norm = nn.LayerNorm(width)
        self.unembed = nn.Linear(width, vocab_size, bias=False)

    def forward(self, tokens: torch.Tensor, mask=None) -> torch.Tensor:
        h = self.embed(tokens)  # [B, T, D]
        B, T, D = h.shape
        q, k, v = self.qkv(h).view(B, T, 3, self.n_heads, D // self.n_heads).permute(2, 0, 3, 1, 4)  # 3x [B, H, T, Dh]
        a = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        h = h + self.proj(a.transpose(1, 2).reshape(B, T, D))
        h = h + self.down(F.gelu(self.up(h)))
        return self.unembed(self.norm(h))


def token_batches(n: int, seq_len: int, vocab: int, batch_size: int, seed: int = 0) -> DataLoader:
    """A DataLoader of ``n`` fixed random sequences as dict batches, in a fixed order."""
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, vocab, (n, seq_len), generator=g)
    return DataLoader([{"tokens": t} for t in tokens], batch_size=batch_size, shuffle=False)


def build_tiny_job(config: dict) -> TrainingJob:
    """Builder for launch(): TinyLM on ``config["n"]`` fixed sequences, ``batch_size`` per device."""
    model = TinyLM(vocab_size=config["vocab"])
    data = token_batches(config["n"], config["seq_len"], config["vocab"], config["batch_size"])
    return TrainingJob(model=model, objective=NextTokenLoss(), train=data)


def broken_job(config: dict) -> TrainingJob:
    """A builder that fails, as a typo in a study would."""
    raise ValueError(f"no data for {config}")
