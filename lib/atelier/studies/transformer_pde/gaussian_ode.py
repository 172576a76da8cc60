"""Gaussian solutions of the Transformer PDE: the ODEs of the mean a and covariance S.

For mu = N(a, S) and softmax scores <A x, y>, A = K^T Q / sqrt d, the attention weights of a
query x tilt mu by exp(<A x, y>); a Gaussian tilted by an exponential of a linear form is the
Gaussian N(a + S A x, S), so the velocity is affine, Gamma(x) = V (a + S A x). Pushing mu along
an affine field keeps it Gaussian, with
    a' = E Gamma(x) = V (I + S A) a,
    S' = E[(Gamma(x) - a')(x - a)^T] + transpose = V S A S + S A^T S V^T.
Multi-head sums the heads: a' = sum_h C_h (I + S A_h) a, S' = sum_h C_h S A_h S + transpose,
with C_h = W_h^T V_h and A_h = K_h^T Q_h / sqrt k.
L2 scores -|Q x - K y|^2 / sqrt d = (2 <A x, y> - y^T B y / 2) + const(x), with B = 2 K^T K / sqrt d,
tilt mu to N(m(x), (I + S B)^{-1} S), m(x) = (I + S B)^{-1} (a + 2 S A x), hence
    a' = V (I + S B)^{-1} (a + 2 S A a),   S' = 2 V (I + S B)^{-1} S A S + transpose.
(The paper writes (I + 2 K^T K S)^{-1}, i.e. the same with the 1/sqrt d absorbed into K.)
S' never depends on a, so the covariance evolves on its own. Tensors may carry leading batch
dims: a (..., d), S (..., d, d).
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from atelier.studies.transformer_pde.attention import Attention
from atelier.studies.transformer_pde.particles import step

GAUSSIAN_KINDS = ("softmax", "l2", "multihead")


def _sym(M: torch.Tensor) -> torch.Tensor:
    return M + M.transpose(-1, -2)


def heads(attn: Attention) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(C_h, A_h) per head: the value-output map and the score matrix (one head unless multihead).

    Single-head weights may carry leading batch dims (..., m, d): a batch of layers.
    """
    if attn.kind == "multihead":
        scale = 1 / math.sqrt(attn.Q.shape[-2])
        return [(W.mT @ V, K.mT @ Q * scale) for Q, K, V, W in zip(attn.Q, attn.K, attn.V, attn.W)]
    return [(attn.V, attn.K.mT @ attn.Q / math.sqrt(attn.dim))]


def moment_field(attn: Attention, like: torch.Tensor) -> Callable:
    """(a, S) -> (a', S') of N(a, S) under ``attn``, weights cast once to ``like``'s dtype/device."""
    if attn.kind not in GAUSSIAN_KINDS:
        raise ValueError(f"no Gaussian closed form for {attn.kind!r} attention; valid: {', '.join(GAUSSIAN_KINDS)}")
    pairs = [(C.to(like), A.to(like)) for C, A in heads(attn)]
    I = torch.eye(attn.dim, dtype=like.dtype, device=like.device)
    if attn.kind == "l2":
        (V, A), = pairs
        B = 2 * attn.K.mT.to(like) @ attn.K.to(like) / math.sqrt(attn.dim)

        def l2(a, S):
            M = torch.linalg.inv(I + S @ B)  # invertible: S B has the eigenvalues of S^1/2 B S^1/2 >= 0
            da = V @ M @ (a.unsqueeze(-1) + 2 * S @ A @ a.unsqueeze(-1))
            return da.squeeze(-1), _sym(2 * V @ M @ S @ A @ S)

        return l2

    def softmax(a, S):
        da = sum(C @ (I + S @ A) @ a.unsqueeze(-1) for C, A in pairs)
        return da.squeeze(-1), _sym(sum(C @ S @ A @ S for C, A in pairs))

    return softmax


def moments_rhs(attn: Attention, a: torch.Tensor, S: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(a', S') of the Gaussian N(a, S) under ``attn``."""
    return moment_field(attn, S)(a, S)


def covariance_field(attn: Attention, like: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """S -> S' (the covariance flow does not depend on the mean)."""
    field = moment_field(attn, like)
    return lambda S: field(torch.zeros(S.shape[:-1], dtype=S.dtype, device=S.device), S)[1]


def psd_project(S: torch.Tensor) -> torch.Tensor:
    """Nearest (Frobenius) positive semi-definite matrix: clip the negative eigenvalues to zero."""
    S = (S + S.transpose(-1, -2)) / 2
    eigvals, eigvecs = torch.linalg.eigh(S)
    return eigvecs @ torch.diag_embed(eigvals.clamp(min=0)) @ eigvecs.transpose(-1, -2)


@torch.no_grad()
def integrate_moments(
    attn: Attention, a0: torch.Tensor, S0: torch.Tensor, t_end: float, steps: int, save_every: int = 1,
    method: str = "rk4",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Integrate (a, S) with Euler or RK4, projecting S on the PSD cone after every step.

    Returns (times (F,), a (F, ..., d), S (F, ..., d, d)), saved like particles.simulate.
    """
    moments = moment_field(attn, S0)

    def field(state: torch.Tensor) -> torch.Tensor:  # state = [a | S] stacked as (..., d, d + 1)
        da, dS = moments(state[..., 0], state[..., 1:])
        return torch.cat([da.unsqueeze(-1), dS], dim=-1)

    dt = t_end / steps
    state = torch.cat([a0.unsqueeze(-1), S0], dim=-1)
    times, frames = [0.0], [state]
    for k in range(1, steps + 1):
        state = step(field, state, dt, method)
        state = torch.cat([state[..., :1], psd_project(state[..., 1:])], dim=-1)
        if k % save_every == 0 or k == steps:
            times.append(k * dt)
            frames.append(state)
    out = torch.stack(frames)
    return torch.tensor(times, dtype=torch.float64), out[..., 0], out[..., 1:]
