"""Particle velocity fields of the Transformer PDE, one pure-torch function per attention variant.

Tokens x_1..x_n in R^d are the particles of the empirical measure mu_n = (1/n) sum_i delta_{x_i};
one attention layer without its residual is the velocity Gamma[mu_n](x_i) of the ODE
dx_i/dt = Gamma[mu_n](x_i). Every function takes a cloud ``x`` of shape (..., n, d) (leading dims
are independent clouds) and returns the velocities, same shape. Conventions (scores use the
token dimension d = x.shape[-1], or the head dimension k for multi-head):

  softmax   Gamma(x_i) = sum_j softmax_j(<Q x_i, K x_j> / sqrt d) V x_j
  causal    the same, with j restricted to j <= i (masked attention)
  multihead sum_h W_h^T sum_j softmax_j(<Q_h x_i, K_h x_j> / sqrt k) V_h x_j,  Q_h, K_h, V_h, W_h in R^{k x d}
  l2        sum_j softmax_j(-|Q x_i - K x_j|^2 / sqrt d) V x_j
  sinkhorn  sum_j P_ij V x_j, P the doubly stochastic (n x n, rows and columns sum to 1) Sinkhorn
            scaling of exp(<Q x_i, K x_j> / sqrt d), computed in the log domain
  sigmoid   (1/n) sum_j sigmoid(<Q x_i, K x_j> / sqrt d + b) V x_j

With A = K^T Q / sqrt d the softmax score is <A x_i, x_j>, the convention the Gaussian ODEs in
gaussian_ode.py are derived in. Each step costs O(n^2 d); the softmax variants go through SDPA.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F

VARIANTS = ("softmax", "multihead", "l2", "sinkhorn", "sigmoid", "causal")


def softmax_velocity(x: torch.Tensor, Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Softmax self-attention velocity; Q, K: (m, d), V: (d, d)."""
    return F.scaled_dot_product_attention(x @ Q.T, x @ K.T, x @ V.T, scale=1 / math.sqrt(x.shape[-1]))


def causal_velocity(x: torch.Tensor, Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Masked (causal) softmax attention: token i attends to tokens j <= i only."""
    return F.scaled_dot_product_attention(
        x @ Q.T, x @ K.T, x @ V.T, is_causal=True, scale=1 / math.sqrt(x.shape[-1])
    )


def multihead_velocity(
    x: torch.Tensor, Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, W: torch.Tensor
) -> torch.Tensor:
    """Multi-head softmax attention; Q, K, V, W: (H, k, d), head h writes back through W_h^T."""
    heads = lambda M: torch.einsum("...nd,hkd->...hnk", x, M)  # (..., H, n, k)
    out = F.scaled_dot_product_attention(heads(Q), heads(K), heads(V), scale=1 / math.sqrt(Q.shape[-2]))
    return torch.einsum("...hnk,hkd->...nd", out, W)


def l2_velocity(x: torch.Tensor, Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """L2 attention, scores -|Q x_i - K x_j|^2 / sqrt d.

    Expanding the square, -|q_i|^2 is constant along a row and cancels in the softmax, leaving
    (2 <q_i, k_j> - |k_j|^2) / sqrt d = <(q_i, 1), (2 k_j, -|k_j|^2)> / sqrt d: plain SDPA on
    queries and keys with one extra coordinate (no n x n mask, so fused kernels apply).
    """
    q, k = x @ Q.T, x @ K.T
    q_aug = torch.cat([q, torch.ones_like(q[..., :1])], dim=-1)  # (..., n, m + 1)
    k_aug = torch.cat([2 * k, -(k * k).sum(-1, keepdim=True)], dim=-1)
    return F.scaled_dot_product_attention(q_aug, k_aug, x @ V.T, scale=1 / math.sqrt(x.shape[-1]))


def sinkhorn_plan(scores: torch.Tensor, iters: int) -> torch.Tensor:
    """Sinkhorn scaling of exp(scores) (..., n, n) to rows and columns summing to one.

    Log-domain iterations (stable for large scores): alternately subtract the column and the row
    log-sum-exp. The last update is on rows, so rows sum to one exactly and columns to within
    the Sinkhorn tolerance reached after ``iters`` iterations.
    """
    if iters < 1:
        raise ValueError(f"sinkhorn iters={iters} must be >= 1")
    log_p = scores
    for _ in range(iters):
        log_p = log_p - torch.logsumexp(log_p, dim=-2, keepdim=True)  # columns
        log_p = log_p - torch.logsumexp(log_p, dim=-1, keepdim=True)  # rows
    return log_p.exp()


def sinkhorn_velocity(
    x: torch.Tensor, Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, iters: int = 50
) -> torch.Tensor:
    """Sinkhorn (doubly stochastic) attention velocity."""
    scores = (x @ Q.T) @ (x @ K.T).transpose(-1, -2) / math.sqrt(x.shape[-1])  # (..., n, n)
    return sinkhorn_plan(scores, iters) @ (x @ V.T)


def sigmoid_velocity(
    x: torch.Tensor, Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, bias: float = 0.0
) -> torch.Tensor:
    """Sigmoid attention: weights sigmoid(score + b) / n, a mean over the other tokens."""
    scores = (x @ Q.T) @ (x @ K.T).transpose(-1, -2) / math.sqrt(x.shape[-1])  # (..., n, n)
    return torch.sigmoid(scores + bias) @ (x @ V.T) / x.shape[-2]


@dataclasses.dataclass(frozen=True)
class Attention:
    """One attention layer: its variant and weights; ``velocity(x)`` is Gamma[mu_x] at the tokens.

    Q, K: (m, d) and V: (d, d) for the single-head variants; (H, k, d) each, plus W, for multihead.
    """

    kind: str
    Q: torch.Tensor
    K: torch.Tensor
    V: torch.Tensor
    W: torch.Tensor | None = None
    bias: float = 0.0
    sinkhorn_iters: int = 50

    def __post_init__(self):
        if self.kind not in VARIANTS:
            raise ValueError(f"unknown attention {self.kind!r}; valid: {', '.join(VARIANTS)}")
        if (self.kind == "multihead") != (self.W is not None):
            raise ValueError(f"attention {self.kind!r}: W is required for multihead and only for it")

    def velocity(self, x: torch.Tensor) -> torch.Tensor:
        Q, K, V = (M.to(x) for M in (self.Q, self.K, self.V))
        if self.kind == "softmax":
            return softmax_velocity(x, Q, K, V)
        if self.kind == "causal":
            return causal_velocity(x, Q, K, V)
        if self.kind == "multihead":
            return multihead_velocity(x, Q, K, V, self.W.to(x))
        if self.kind == "l2":
            return l2_velocity(x, Q, K, V)
        if self.kind == "sinkhorn":
            return sinkhorn_velocity(x, Q, K, V, self.sinkhorn_iters)
        return sigmoid_velocity(x, Q, K, V, self.bias)

    def with_kind(self, kind: str) -> "Attention":
        """The same single-head weights under another single-head variant."""
        return dataclasses.replace(self, kind=kind)

    @property
    def dim(self) -> int:
        return self.Q.shape[-1]


def all_variants(
    Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, heads: int = 2, bias: float = 0.0, sinkhorn_iters: int = 50
) -> dict[str, Attention]:
    """Every variant built from one set of (d, d) weights; multihead splits their rows into
    ``heads`` heads of dimension d / heads and writes each head back through the matching rows
    of the identity (so sum_h W_h^T V_h = V)."""
    d = Q.shape[-1]
    if d % heads:
        raise ValueError(f"heads={heads} must divide the token dimension d={d}")
    split = lambda M: M.reshape(heads, d // heads, d)  # (H, k, d): rows of M, head by head
    eye = torch.eye(d, dtype=Q.dtype, device=Q.device)
    layers = {kind: Attention(kind, Q, K, V, bias=bias, sinkhorn_iters=sinkhorn_iters) for kind in VARIANTS
              if kind != "multihead"}
    layers["multihead"] = Attention("multihead", split(Q), split(K), split(V), split(eye))
    return {kind: layers[kind] for kind in VARIANTS}
