"""Fused unembedding + cross-entropy over selected rows, without the full logits in memory.

Given hidden states h [N, D] (already gathered at the positions that carry a loss, e.g. the
masked tokens of a diffusion batch), the unembedding W [V, D] and targets y [N]:

    z_i   = multiplier * W h_i                      logits of row i, [V]
    ce_i  = logsumexp(z_i) - z_i[y_i]
    loss  = sum_i c_i ce_i / (sum_i c_i)   (mean)   or   sum_i c_i ce_i   (sum)

with c_i = weights_i (1 without weights) and c_i = 0 where y_i == ignore_index. "mean" with
weights is the weighted mean, as F.cross_entropy normalises by the weights it is given; with
every row ignored it is nan, as there. The NELBO of masked diffusion is reduction="sum" with
weights = w(t) of each row's example, divided by the token count.

Two backends compute the same two pieces, the per-row log-sum-exp (forward) and the gradients
with respect to h and W (backward, logits recomputed): a pure-torch one that walks over chunks
of rows (only [chunk, V] logits exist at once), used on CPU and as the reference, and a Triton
one (linear_cross_entropy_triton.py) that walks over vocabulary tiles with an online
log-sum-exp, used on CUDA. The reduction, the weights and autograd are shared here.
"""

from __future__ import annotations

import os

import torch

IMPLS = ("auto", "torch", "triton")
REDUCTIONS = ("mean", "sum")
TRITON_DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def _accumulation_dtype(h: torch.Tensor) -> torch.dtype:
    return torch.promote_types(h.dtype, torch.float32)


def _torch_lse_and_target_logit(h, W, targets, multiplier, chunk_size):
    """Per-row log-sum-exp and target logit, [N] each in fp32 (fp64 for fp64 inputs), chunk_size
    rows at a time."""
    lse = torch.empty(h.shape[0], device=h.device, dtype=_accumulation_dtype(h))
    target_logit = torch.empty_like(lse)
    safe_targets = targets.clamp(min=0)  # ignored rows read logit 0; their weight is 0
    W = W.to(lse.dtype)
    for start in range(0, h.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        logits = (h[rows].to(lse.dtype) * multiplier) @ W.T  # [chunk, V]
        lse[rows] = torch.logsumexp(logits, dim=-1)
        target_logit[rows] = logits.gather(1, safe_targets[rows, None]).squeeze(1)
    return lse, target_logit


def _torch_grads(h, W, targets, lse, row_scale, multiplier, chunk_size):
    """dL/dh [N, D] and dL/dW [V, D] for dL/dz_i = row_scale_i (softmax(z_i) - onehot(y_i))."""
    grad_h = torch.empty(h.shape, device=h.device, dtype=lse.dtype)
    grad_W = torch.zeros(W.shape, device=W.device, dtype=lse.dtype)
    safe_targets = targets.clamp(min=0)
    W = W.to(lse.dtype)
    for start in range(0, h.shape[0], chunk_size):
        rows = slice(start, start + chunk_size)
        h_rows = h[rows].to(lse.dtype)  # [chunk, D]
        grad_z = ((h_rows * multiplier) @ W.T).sub_(lse[rows, None]).exp_()  # softmax of the recomputed logits
        grad_z.scatter_add_(1, safe_targets[rows, None], -torch.ones_like(lse[rows, None]))
        grad_z.mul_((row_scale[rows] * multiplier)[:, None])  # d loss / d (h W^T)
        grad_h[rows] = grad_z @ W
        grad_W += grad_z.T @ h_rows
    return grad_h, grad_W


def _triton_backend():
    from atelier.kernels import linear_cross_entropy_triton  # imports triton: only when asked for

    return linear_cross_entropy_triton.lse_and_target_logit, linear_cross_entropy_triton.grads


def _torch_backend(chunk_size):
    return (
        lambda h, W, y, m: _torch_lse_and_target_logit(h, W, y, m, chunk_size),
        lambda h, W, y, lse, s, m: _torch_grads(h, W, y, lse, s, m, chunk_size),
    )


class _LinearCrossEntropy(torch.autograd.Function):
    """Autograd around a backend's (lse, grads) pair; weights get d loss / d weights too."""

    @staticmethod
    def forward(ctx, h, W, targets, weights, multiplier, reduction, ignore_index, backend):
        forward_rows, backward_grads = backend
        counted = targets != ignore_index  # [N]
        with torch.autocast(h.device.type, enabled=False):  # logits stay in the accumulation dtype
            lse, target_logit = forward_rows(h, W, targets, multiplier)
        ce = torch.where(counted, lse - target_logit, 0.0)  # [N]
        c = counted.to(lse.dtype) if weights is None else torch.where(counted, weights.to(lse.dtype), 0.0)
        total = (c * ce).sum()
        norm = c.sum() if reduction == "mean" else torch.ones((), device=h.device, dtype=lse.dtype)
        loss = total / norm
        ctx.save_for_backward(h, W, targets, lse, ce, c, counted, norm, loss)
        ctx.multiplier, ctx.reduction, ctx.backward_grads = multiplier, reduction, backward_grads
        ctx.weights_dtype = None if weights is None else weights.dtype
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        h, W, targets, lse, ce, c, counted, norm, loss = ctx.saved_tensors
        grad_loss = grad_loss.to(lse.dtype)
        grad_h = grad_W = grad_weights = None
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            row_scale = grad_loss * c / norm  # [N]
            with torch.autocast(h.device.type, enabled=False):
                grad_h, grad_W = ctx.backward_grads(h, W, targets, lse, row_scale, ctx.multiplier)
            grad_h, grad_W = grad_h.to(h.dtype), grad_W.to(W.dtype)
        if ctx.needs_input_grad[3]:
            # sum: d loss / d c_i = ce_i; mean: d/dc_i (sum c ce / sum c) = (ce_i - loss) / sum c
            per_row = ce - loss if ctx.reduction == "mean" else ce
            grad_weights = (grad_loss * torch.where(counted, per_row / norm, 0.0)).to(ctx.weights_dtype)
        return grad_h, grad_W, None, grad_weights, None, None, None, None


def linear_cross_entropy(
    h: torch.Tensor,
    W: torch.Tensor,
    targets: torch.Tensor,
    multiplier: float = 1.0,
    weights: torch.Tensor | None = None,
    reduction: str = "mean",
    ignore_index: int = -100,
    impl: str = "auto",
    chunk_size: int = 1024,
) -> torch.Tensor:
    """Cross-entropy of the logits multiplier * h @ W.T against targets, never all in memory.

    h: [N, D] hidden states of the rows that carry a loss; W: [V, D]; targets: Long[N] in
    [0, V) or ignore_index; weights: optional [N] per-row weights (differentiable).
    reduction: "mean" (weighted mean over counted rows) or "sum". Returns an fp32 scalar (fp64
    for fp64 inputs): logits and their log-sum-exp are fp32 whatever h's dtype. Gradients
    flow to h, W and weights in their own dtypes. impl: "auto" (Triton for fp32/bf16/fp16
    CUDA tensors, else torch), "torch" (rows in chunks of chunk_size) or "triton" (CUDA
    tensors, or any tensors under TRITON_INTERPRET=1). Under autocast, h and W are cast to
    the autocast dtype first, as for a matmul.
    """
    if torch.is_autocast_enabled(h.device.type):
        dtype = torch.get_autocast_dtype(h.device.type)
        h, W = h.to(dtype), W.to(dtype)
    _check(h, W, targets, weights, reduction, ignore_index, impl, chunk_size)
    if impl == "auto":
        impl = "triton" if h.is_cuda and h.dtype in TRITON_DTYPES else "torch"
    backend = _triton_backend() if impl == "triton" else _torch_backend(chunk_size)
    return _LinearCrossEntropy.apply(h, W, targets, weights, float(multiplier), reduction, ignore_index, backend)


def _check(h, W, targets, weights, reduction, ignore_index, impl, chunk_size):
    """One clear error for each bad argument."""
    if impl not in IMPLS:
        raise ValueError(f"impl={impl!r} is unknown; valid: {', '.join(IMPLS)}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction={reduction!r} is unknown; valid: {', '.join(REDUCTIONS)}")
    if h.ndim != 2 or W.ndim != 2 or h.shape[1] != W.shape[1]:
        raise ValueError(f"h {tuple(h.shape)} and W {tuple(W.shape)} must be [N, D] and [V, D] with the same D")
    if targets.shape != h.shape[:1] or targets.dtype != torch.long:
        raise ValueError(f"targets {tuple(targets.shape)} {targets.dtype} must be Long[N] with N = {h.shape[0]}")
    if weights is not None and weights.shape != h.shape[:1]:
        raise ValueError(f"weights {tuple(weights.shape)} must be [N] with N = {h.shape[0]}")
    if h.dtype != W.dtype or len({h.device, W.device, targets.device}) > 1:
        raise ValueError(f"h ({h.dtype}, {h.device}) and W ({W.dtype}, {W.device}) must share dtype and device,"
                         f" targets the device ({targets.device})")
    if chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size} must be >= 1")
    bad = (targets != ignore_index) & ((targets < 0) | (targets >= W.shape[0]))
    if bad.any():
        raise ValueError(f"target {targets[bad][0].item()} is out of range: valid are 0..{W.shape[0] - 1}"
                         f" or ignore_index={ignore_index}")
    if impl == "triton" and not h.is_cuda and os.environ.get("TRITON_INTERPRET") != "1":
        raise ValueError("impl='triton' needs CUDA tensors (or TRITON_INTERPRET=1 set before triton is imported)")
