"""Triton backend of linear_cross_entropy: logits exist only as [BLOCK_N, BLOCK_V] tiles.

Forward: each program takes BLOCK_N rows and a contiguous range of vocabulary tiles (a
"split", so that few rows still fill the GPU), computes each logits tile from BLOCK_D-wide
slices of h and W, and keeps an online log-sum-exp (running max and rescaled sum) and the
target logit. The splits' partial log-sum-exps are merged in torch.

Backward: one program per (row tile, vocabulary tile) recomputes its logits tile, turns it
into d loss / d logits = row_scale * (softmax - onehot), and adds its share of
dL/dh = G W and dL/dW = G^T h into fp32 buffers with atomic adds.

Imported only when the Triton path is asked for (importing triton is slow and, for the
interpreter, TRITON_INTERPRET must be set before).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _logits_tile(h_ptr, w_ptr, rows, cols, N, V, D, stride_hn, stride_hd, stride_wv, stride_wd, multiplier,
                 BLOCK_N: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_D: tl.constexpr, PRECISION: tl.constexpr):
    """multiplier * h[rows] @ W[cols].T as fp32 [BLOCK_N, BLOCK_V]; out-of-range rows/cols read 0."""
    acc = tl.zeros([BLOCK_N, BLOCK_V], dtype=tl.float32)
    for d0 in range(0, D, BLOCK_D):
        ds = d0 + tl.arange(0, BLOCK_D)
        h = tl.load(h_ptr + rows[:, None] * stride_hn + ds[None, :] * stride_hd,
                    mask=(rows[:, None] < N) & (ds[None, :] < D), other=0.0)  # [BLOCK_N, BLOCK_D]
        w = tl.load(w_ptr + cols[:, None] * stride_wv + ds[None, :] * stride_wd,
                    mask=(cols[:, None] < V) & (ds[None, :] < D), other=0.0)  # [BLOCK_V, BLOCK_D]
        acc = tl.dot(h, tl.trans(w), acc, input_precision=PRECISION)
    return (acc * multiplier).to(tl.float32)  # fp32 even when a caller (torch.compile) passes an fp64 scalar


@triton.jit
def _lse_kernel(h_ptr, w_ptr, y_ptr, lse_ptr, zy_ptr, N, V, D, n_tiles, tiles_per_split, multiplier,
                stride_hn, stride_hd, stride_wv, stride_wd,
                BLOCK_N: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_D: tl.constexpr, PRECISION: tl.constexpr):
    """Partial log-sum-exp and target logit of BLOCK_N rows over one split of vocabulary tiles."""
    split = tl.program_id(1)
    rows = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    y = tl.load(y_ptr + rows, mask=rows < N, other=-1)
    running_max = tl.full([BLOCK_N], float("-inf"), dtype=tl.float32)
    running_sum = tl.zeros([BLOCK_N], dtype=tl.float32)
    target_logit = tl.zeros([BLOCK_N], dtype=tl.float32)
    first = split * tiles_per_split
    for tile in range(first, tl.minimum(first + tiles_per_split, n_tiles)):
        cols = tile * BLOCK_V + tl.arange(0, BLOCK_V)
        z = _logits_tile(h_ptr, w_ptr, rows, cols, N, V, D, stride_hn, stride_hd, stride_wv, stride_wd,
                         multiplier, BLOCK_N, BLOCK_V, BLOCK_D, PRECISION)
        z = tl.where(cols[None, :] < V, z, float("-inf"))
        new_max = tl.maximum(running_max, tl.max(z, axis=1))
        running_sum = running_sum * tl.exp(running_max - new_max) + tl.sum(tl.exp(z - new_max[:, None]), axis=1)
        running_max = new_max
        target_logit += tl.sum(tl.where(cols[None, :] == y[:, None], z, 0.0), axis=1)
    tl.store(lse_ptr + split * N + rows, running_max + tl.log(running_sum), mask=rows < N)
    tl.store(zy_ptr + split * N + rows, target_logit, mask=rows < N)


@triton.jit
def _grad_kernel(h_ptr, w_ptr, y_ptr, lse_ptr, scale_ptr, grad_h_ptr, grad_w_ptr, N, V, D, multiplier,
                 stride_hn, stride_hd, stride_wv, stride_wd,
                 BLOCK_N: tl.constexpr, BLOCK_V: tl.constexpr, BLOCK_D: tl.constexpr, PRECISION: tl.constexpr):
    """Adds one (row tile, vocabulary tile)'s share of dL/dh and dL/dW (contiguous fp32 buffers)."""
    rows = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    cols = tl.program_id(1) * BLOCK_V + tl.arange(0, BLOCK_V)
    y = tl.load(y_ptr + rows, mask=rows < N, other=-1)
    lse = tl.load(lse_ptr + rows, mask=rows < N, other=0.0)
    row_scale = tl.load(scale_ptr + rows, mask=rows < N, other=0.0)
    z = _logits_tile(h_ptr, w_ptr, rows, cols, N, V, D, stride_hn, stride_hd, stride_wv, stride_wd,
                     multiplier, BLOCK_N, BLOCK_V, BLOCK_D, PRECISION)
    softmax = tl.exp(z - lse[:, None])
    onehot = tl.where(cols[None, :] == y[:, None], 1.0, 0.0)
    g = (softmax - onehot) * (row_scale * multiplier).to(tl.float32)[:, None]  # d loss / d (h W^T), [BLOCK_N, BLOCK_V]
    g = tl.where(cols[None, :] < V, g, 0.0).to(h_ptr.dtype.element_ty)
    for d0 in range(0, D, BLOCK_D):
        ds = d0 + tl.arange(0, BLOCK_D)
        h = tl.load(h_ptr + rows[:, None] * stride_hn + ds[None, :] * stride_hd,
                    mask=(rows[:, None] < N) & (ds[None, :] < D), other=0.0)
        w = tl.load(w_ptr + cols[:, None] * stride_wv + ds[None, :] * stride_wd,
                    mask=(cols[:, None] < V) & (ds[None, :] < D), other=0.0)
        tl.atomic_add(grad_h_ptr + rows[:, None] * D + ds[None, :], tl.dot(g, w, input_precision=PRECISION),
                      mask=(rows[:, None] < N) & (ds[None, :] < D))
        tl.atomic_add(grad_w_ptr + cols[:, None] * D + ds[None, :],
                      tl.dot(tl.trans(g), h, input_precision=PRECISION),
                      mask=(cols[:, None] < V) & (ds[None, :] < D))


def _config(h: torch.Tensor) -> dict:
    """Tile sizes: GPU-sized on CUDA (fp32 tiles half as deep, to fit the backward's shared
    memory, 152 KiB at 3 stages on sm_90); the interpreter's minimum (16) elsewhere, so that
    small test shapes still span several tiles. fp32 uses TF32 only where torch's matmuls do."""
    fp32_exact = h.dtype == torch.float32 and not torch.backends.cuda.matmul.allow_tf32
    precision = "ieee" if fp32_exact or not h.is_cuda else "tf32"
    if h.is_cuda:
        block_d = 32 if h.dtype == torch.float32 else 64
        return dict(BLOCK_N=64, BLOCK_V=128, BLOCK_D=block_d, PRECISION=precision, num_warps=8, num_stages=3)
    return dict(BLOCK_N=16, BLOCK_V=16, BLOCK_D=16, PRECISION=precision)


def lse_and_target_logit(h, W, targets, multiplier):
    """Per-row log-sum-exp and target logit (fp32 [N] each) of multiplier * h @ W.T."""
    N, V = h.shape[0], W.shape[0]
    if N == 0:
        return h.new_zeros(0, dtype=torch.float32), h.new_zeros(0, dtype=torch.float32)
    cfg = _config(h)
    row_blocks, n_tiles = triton.cdiv(N, cfg["BLOCK_N"]), triton.cdiv(V, cfg["BLOCK_V"])
    # Few row blocks leave the GPU idle: split the vocabulary until ~4 programs per SM.
    programs = 4 * torch.cuda.get_device_properties(h.device).multi_processor_count if h.is_cuda else 4
    tiles_per_split = triton.cdiv(n_tiles, min(n_tiles, triton.cdiv(programs, row_blocks)))
    n_splits = triton.cdiv(n_tiles, tiles_per_split)  # every split has at least one tile
    partial_lse = torch.empty(n_splits, N, device=h.device, dtype=torch.float32)
    partial_target = torch.empty_like(partial_lse)
    _lse_kernel[(row_blocks, n_splits)](
        h, W, targets.contiguous(), partial_lse, partial_target, N, V, h.shape[1], n_tiles, tiles_per_split,
        multiplier, h.stride(0), h.stride(1), W.stride(0), W.stride(1), **cfg)
    return torch.logsumexp(partial_lse, dim=0), partial_target.sum(0)


def grads(h, W, targets, lse, row_scale, multiplier):
    """dL/dh [N, D] and dL/dW [V, D] (fp32) for dL/dz_i = row_scale_i (softmax(z_i) - onehot(y_i))."""
    N, V, D = h.shape[0], W.shape[0], h.shape[1]
    cfg = _config(h)
    grad_h = torch.zeros(N, D, device=h.device, dtype=torch.float32)
    grad_W = torch.zeros(V, D, device=h.device, dtype=torch.float32)
    if N > 0:
        grid = (triton.cdiv(N, cfg["BLOCK_N"]), triton.cdiv(V, cfg["BLOCK_V"]))
        _grad_kernel[grid](h, W, targets.contiguous(), lse.contiguous(), row_scale.contiguous(), grad_h, grad_W,
                           N, V, D, multiplier, h.stride(0), h.stride(1), W.stride(0), W.stride(1), **cfg)
    return grad_h, grad_W
