"""Rotary position embeddings (RoPE, Su et al. 2021).

Each pair of channels (i, i + d/2) of a query or key at position m is rotated by the angle
m * base^(-2i/d). A rotation by m on the query and by n on the key leaves their dot product a
function of m - n only, so attention sees relative positions without any learned table.
"""

from __future__ import annotations

import torch


def rope_cache(head_dim: int, max_len: int, base: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the rotation angles, each [max_len, head_dim] (the half-split layout)."""
    if head_dim % 2:
        raise ValueError(f"RoPE needs an even head_dim, got {head_dim}")
    inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)  # [d/2]
    angles = torch.outer(torch.arange(max_len, dtype=torch.float64), inv_freq)  # [T, d/2]
    angles = torch.cat([angles, angles], dim=-1)  # [T, d]: channel i and i + d/2 share an angle
    return angles.cos().float(), angles.sin().float()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate x [..., T, d] by the angles of positions 0..T-1 (cos, sin: [T, d])."""
    x1, x2 = x.chunk(2, dim=-1)
    rotated_half = torch.cat([-x2, x1], dim=-1)
    return x * cos.to(x.dtype) + rotated_half * sin.to(x.dtype)
