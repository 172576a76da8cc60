"""FlexAttention fast path of the l2 and causal attention velocities.

FlexAttention compiles a score_mod / block mask into a fused flash-attention kernel, so the
n x n scores never exist. L2 uses the reference's expansion: scale 2 / sqrt d on <q_i, k_j> and a
per-key bias -|k_j|^2 / sqrt d added by the score_mod (the per-query -|q_i|^2 cancels in the
softmax). Causal is a block mask whose fully masked blocks are skipped. Head dims are
zero-padded to a power of two >= 16 (the generated kernel's smallest matmul), which changes no
dot product and only adds zero output columns. On CUDA the compiled kernel runs; on other
devices flex_attention runs unfused (it materialises the scores), which only tests use.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch.nn.attention.flex_attention import create_block_mask, flex_attention


@functools.cache
def _compiled_flex():
    return torch.compile(flex_attention, dynamic=False)


@functools.lru_cache(maxsize=8)
def _causal_block_mask(n: int, device: torch.device):
    return create_block_mask(lambda b, h, q_idx, kv_idx: kv_idx <= q_idx, None, None, n, n, device=device)


def flex_velocity(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, d: int, kind: str) -> torch.Tensor:
    """l2 or causal attention of q, k [..., n, m] over v [..., n, p]; d is the token dimension."""
    lead, n, p = q.shape[:-2], q.shape[-2], v.shape[-1]
    width = max(16, 1 << (max(q.shape[-1], p) - 1).bit_length())
    q4, k4, v4 = (F.pad(t, (0, width - t.shape[-1])).reshape(-1, 1, n, width) for t in (q, k, v))  # [B, 1, n, width]
    attend = _compiled_flex() if q.is_cuda else flex_attention
    if kind == "l2":
        key_bias = (k * k).sum(-1).reshape(-1, n) / math.sqrt(d)  # [B, n]
        out = attend(q4, k4, v4, score_mod=lambda s, b, h, q_idx, kv_idx: s - key_bias[b, kv_idx],
                     scale=2 / math.sqrt(d))
    elif kind == "causal":
        out = attend(q4, k4, v4, block_mask=_causal_block_mask(n, q.device), scale=1 / math.sqrt(d))
    else:
        raise ValueError(f"no FlexAttention path for {kind!r}; valid: l2, causal")
    return out[..., :p].reshape(*lead, n, p)
