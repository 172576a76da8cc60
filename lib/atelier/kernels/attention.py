"""Attention velocities of the Transformer PDE: pure-torch references and one dispatch.

Tokens x_1..x_n in R^d (x: [..., n, d]; leading dims are independent clouds) move with the
velocity Gamma(x_i) = sum_j P_ij V x_j of one attention layer without its residual. With
q_i = Q x_i, k_j = K x_j (Q, K: [m, d]), v_j = V x_j (V: [p, d]) and s_ij = <q_i, k_j> / sqrt d
(d is the token dimension x.shape[-1]), the kinds are

  softmax   P_ij = softmax_j(s_ij)                                   (SDPA)
  causal    the same with j <= i only (masked attention)             (SDPA, is_causal)
  l2        P_ij = softmax_j(-|q_i - k_j|^2 / sqrt d)
  sigmoid   P_ij = sigmoid(s_ij + bias) / n
  sinkhorn  P = the doubly stochastic Sinkhorn scaling of exp(s), log-domain iterations

The fast paths for CUDA are FlexAttention (l2, causal; attention_flex.py) and Triton
(sigmoid; attention_triton.py); softmax and sinkhorn have none beyond SDPA and torch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

KINDS = ("softmax", "causal", "l2", "sigmoid", "sinkhorn")
FAST_PATHS = {"causal": "flex", "l2": "flex", "sigmoid": "triton"}
FAST_DTYPES = (torch.float32, torch.bfloat16, torch.float16)
OPTIONS = {"sigmoid": {"bias": 0.0}, "sinkhorn": {"iters": 50}}  # kind -> option -> default


def _scale(d: int) -> float:
    return 1 / math.sqrt(d)


def softmax_reference(q, k, v, d):
    """Softmax attention; q, k: [..., n, m], v: [..., n, p]."""
    return F.scaled_dot_product_attention(q, k, v, scale=_scale(d))


def causal_reference(q, k, v, d):
    """Causal softmax attention: token i attends to tokens j <= i."""
    return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=_scale(d))


def l2_reference(q, k, v, d):
    """softmax_j(-|q_i - k_j|^2 / sqrt d). -|q_i|^2 is constant along a row and cancels in the
    softmax, leaving (2 <q_i, k_j> - |k_j|^2) / sqrt d: SDPA with scale 2 / sqrt d and a key bias."""
    key_bias = (-(k * k).sum(-1) * _scale(d)).unsqueeze(-2)  # [..., 1, n], the same for every query
    return F.scaled_dot_product_attention(q, k, v, attn_mask=key_bias, scale=2 * _scale(d))


def sigmoid_reference(q, k, v, d, bias=0.0):
    """(1/n) sum_j sigmoid(<q_i, k_j> / sqrt d + bias) v_j."""
    scores = q @ k.transpose(-1, -2) * _scale(d)  # [..., n, n]
    return torch.sigmoid(scores + bias) @ v / q.shape[-2]


def sinkhorn_plan(scores: torch.Tensor, iters: int) -> torch.Tensor:
    """Doubly stochastic scaling of exp(scores) [..., n, n]: rows and columns sum to one.

    Log-domain iterations (stable for large scores) alternately subtract the column and the row
    log-sum-exp; the last update is on rows, so rows sum to one exactly and columns to within
    the tolerance reached after ``iters`` iterations.
    """
    log_p = scores
    for _ in range(iters):
        log_p = log_p - torch.logsumexp(log_p, dim=-2, keepdim=True)  # columns
        log_p = log_p - torch.logsumexp(log_p, dim=-1, keepdim=True)  # rows
    return log_p.exp()


def sinkhorn_reference(q, k, v, d, iters=50):
    """sum_j P_ij v_j with P the Sinkhorn scaling of exp(<q_i, k_j> / sqrt d)."""
    return sinkhorn_plan(q @ k.transpose(-1, -2) * _scale(d), iters) @ v


REFERENCES = {"softmax": softmax_reference, "causal": causal_reference, "l2": l2_reference,
              "sigmoid": sigmoid_reference, "sinkhorn": sinkhorn_reference}


def attention_velocity(x: torch.Tensor, Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, kind: str,
                       impl: str = "auto", **opts) -> torch.Tensor:
    """Velocities Gamma(x_i) [..., n, p] of the cloud x [..., n, d] under attention ``kind``.

    Q, K: [m, d]; V: [p, d]. opts: bias (sigmoid, default 0), iters (sinkhorn, default 50).
    impl: "auto" (the kind's fast path for fp32/bf16/fp16 CUDA tensors, else the reference),
    "torch", or the kind's fast path by name ("flex" for l2 and causal, "triton" for
    sigmoid). The Triton kernel is forward-only, so "auto" takes the reference when
    gradients are needed.
    """
    options = _check(x, Q, K, V, kind, impl, opts)
    q, k, v = x @ Q.T, x @ K.T, x @ V.T  # [..., n, m], [..., n, m], [..., n, p]
    needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in (x, Q, K, V))
    if impl == "auto":
        impl = FAST_PATHS.get(kind, "torch") if x.is_cuda and x.dtype in FAST_DTYPES else "torch"
        if impl == "triton" and needs_grad:
            impl = "torch"
    if impl == "flex":
        from atelier.kernels.attention_flex import flex_velocity  # imports triton

        return flex_velocity(q, k, v, x.shape[-1], kind)
    if impl == "triton":
        if needs_grad:
            raise ValueError("impl='triton' (sigmoid) is forward-only; use impl='auto' or 'torch' for gradients")
        from atelier.kernels.attention_triton import sigmoid_velocity  # imports triton

        return sigmoid_velocity(q, k, v, x.shape[-1], **options)
    return REFERENCES[kind](q, k, v, x.shape[-1], **options)


def _check(x, Q, K, V, kind, impl, opts) -> dict:
    """One clear error for each bad argument; returns the kind's options with defaults filled."""
    if kind not in KINDS:
        raise ValueError(f"unknown attention kind {kind!r}; valid: {', '.join(KINDS)}")
    valid_impls = ("auto", "torch") + ((FAST_PATHS[kind],) if kind in FAST_PATHS else ())
    if impl not in valid_impls:
        raise ValueError(f"impl={impl!r} is not available for {kind!r}; valid: {', '.join(valid_impls)}")
    defaults = OPTIONS.get(kind, {})
    unknown = sorted(set(opts) - set(defaults))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {kind!r}; valid: {sorted(defaults) or 'none'}")
    d = x.shape[-1] if x.ndim >= 2 else None
    if Q.ndim != 2 or Q.shape != K.shape or V.ndim != 2 or Q.shape[1] != d or V.shape[1] != d:
        raise ValueError(f"shapes x {tuple(x.shape)}, Q {tuple(Q.shape)}, K {tuple(K.shape)}, V {tuple(V.shape)}:"
                         " need x [..., n, d], Q and K [m, d], V [p, d]")
    options = {**defaults, **opts}
    if kind == "sinkhorn" and options["iters"] < 1:
        raise ValueError(f"sinkhorn iters={options['iters']} must be >= 1")
    return options
