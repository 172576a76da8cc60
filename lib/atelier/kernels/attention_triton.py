"""Triton fast path of the sigmoid attention velocity (1/n) sum_j sigmoid(s_ij + bias) v_j.

Sigmoid weights need no normalisation across keys, so each program takes BLOCK_M queries of
one cloud, walks over BLOCK_N keys at a time, and accumulates sigmoid(q k^T * scale + bias) @ v
in fp32: a flash-attention loop without the running max. Head dims are padded (masked loads)
to a power of two >= 16, the smallest tl.dot. Forward only.
"""

from __future__ import annotations

import math

import torch
import triton
import triton.language as tl


@triton.jit
def _sigmoid_attention_kernel(q_ptr, k_ptr, v_ptr, out_ptr, n, m, p, scale, bias, inv_n,
                              BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_E: tl.constexpr,
                              BLOCK_P: tl.constexpr, PRECISION: tl.constexpr):
    """out[b, rows] = inv_n * sum_j sigmoid(q[b, rows] . k[b, j] * scale + bias) v[b, j]."""
    cloud = tl.program_id(1)
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    es, ps = tl.arange(0, BLOCK_E), tl.arange(0, BLOCK_P)
    q = tl.load(q_ptr + cloud * n * m + rows[:, None] * m + es[None, :],
                mask=(rows[:, None] < n) & (es[None, :] < m), other=0.0)  # [BLOCK_M, BLOCK_E]
    acc = tl.zeros([BLOCK_M, BLOCK_P], dtype=tl.float32)
    for start in range(0, n, BLOCK_N):
        keys = start + tl.arange(0, BLOCK_N)
        k = tl.load(k_ptr + cloud * n * m + keys[:, None] * m + es[None, :],
                    mask=(keys[:, None] < n) & (es[None, :] < m), other=0.0)  # [BLOCK_N, BLOCK_E]
        v = tl.load(v_ptr + cloud * n * p + keys[:, None] * p + ps[None, :],
                    mask=(keys[:, None] < n) & (ps[None, :] < p), other=0.0)  # [BLOCK_N, BLOCK_P]
        weights = tl.sigmoid(tl.dot(q, tl.trans(k), input_precision=PRECISION) * scale + bias)
        weights = tl.where(keys[None, :] < n, weights, 0.0)  # [BLOCK_M, BLOCK_N]
        acc = tl.dot(weights.to(v.dtype), v, acc, input_precision=PRECISION)
    tl.store(out_ptr + cloud * n * p + rows[:, None] * p + ps[None, :], acc * inv_n,
             mask=(rows[:, None] < n) & (ps[None, :] < p))


def sigmoid_velocity(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, d: int, bias: float = 0.0) -> torch.Tensor:
    """Sigmoid attention of q, k [..., n, m] over v [..., n, p]; d is the token dimension."""
    lead, n, m, p = q.shape[:-2], q.shape[-2], q.shape[-1], v.shape[-1]
    q3, k3, v3 = (t.reshape(-1, n, t.shape[-1]).contiguous() for t in (q, k, v))  # [B, n, .]
    out = torch.empty_like(v3)
    exact = q.dtype == torch.float32 and not torch.backends.cuda.matmul.allow_tf32
    block = 64 if q.is_cuda else 16
    grid = (triton.cdiv(n, block), q3.shape[0])
    if n > 0 and q3.shape[0] > 0:
        _sigmoid_attention_kernel[grid](
            q3, k3, v3, out, n, m, p, 1 / math.sqrt(d), float(bias), 1 / n,
            BLOCK_M=block, BLOCK_N=block, BLOCK_E=max(16, triton.next_power_of_2(m)),
            BLOCK_P=max(16, triton.next_power_of_2(p)), PRECISION="ieee" if exact or not q.is_cuda else "tf32")
    return out.reshape(*lead, n, p)
