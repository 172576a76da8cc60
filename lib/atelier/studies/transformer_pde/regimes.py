"""The long-time regimes of the softmax covariance ODE S' = V S A S + S A^T S V^T.

Four weight families, after the paper's 2-D phase portraits (weights drawn from a seeded
generator, as the paper does):

  to_zero    K = -Q, V symmetric positive definite: A = -Q^T Q / sqrt d is negative definite and
             tr(V^-1 S)' = 2 tr(S A S) < 0, so S -> 0 (tokens collapse to a point).
  rank_one   Q = q, K = -q (one row), V = I: S q^T -> 0 while S stays PSD; S converges to a
             rank-one matrix orthogonal to q (tokens collapse to a line).
  two_lines  A + A^T indefinite, V generic: on rank-one S = y y^T the flow is y' = (y^T A y) V y,
             whose rest points are the two isotropic lines y^T A y = 0; S/tr S converges to one
             of them depending on S(0).
  blow_up    A + A^T positive definite, V = I: P = S^-1 solves P' = -(A + A^T), so S(t) =
             (S0^-1 - t (A + A^T))^-1 blows up at t* = 1 / lambda_max(S0^1/2 (A + A^T) S0^1/2),
             and S/tr S tends to the rank-one projector on the kernel of P(t*).

``evolve`` integrates a batch of initial covariances with RK4 steps whose size shrinks as the
flow speeds up (dt ~ 1/|S|, the ODE being quadratic in S), projecting on the PSD cone.
"""

from __future__ import annotations

import math

import torch

from atelier.studies.transformer_pde.attention import Attention
from atelier.studies.transformer_pde.gaussian_ode import covariance_field, heads, psd_project
from atelier.studies.transformer_pde.particles import step

REGIMES = ("to_zero", "rank_one", "two_lines", "blow_up")


def _sym_eigvals(M: torch.Tensor) -> torch.Tensor:
    return torch.linalg.eigvalsh((M + M.mT) / 2)


def score_matrix(attn: Attention) -> torch.Tensor:
    """A = K^T Q / sqrt d of a single-head layer."""
    return heads(attn)[0][1]


def regime_attention(regime: str, gen: torch.Generator, d: int = 2, max_tries: int = 1000) -> Attention:
    """Softmax weights (Q, K, V) of ``regime``, drawn from ``gen``."""
    kw = {"dtype": torch.float64, "generator": gen}
    if regime == "to_zero":
        Q = torch.linalg.qr(torch.randn(d, d, **kw))[0] @ torch.diag(0.7 + 0.6 * torch.rand(d, **kw))
        U = torch.linalg.qr(torch.randn(d, d, **kw))[0]
        V = U @ torch.diag(0.5 + torch.rand(d, **kw)) @ U.T
        return Attention("softmax", Q, -Q, V)
    if regime == "rank_one":
        q = torch.randn(1, d, **kw)
        q = q / q.norm()
        return Attention("softmax", q, -q, torch.eye(d, dtype=torch.float64))
    if regime == "blow_up":
        for _ in range(max_tries):
            Q, K = torch.randn(d, d, **kw), torch.randn(d, d, **kw)
            if _sym_eigvals(K.T @ Q)[0] > 0.1:
                return Attention("softmax", Q, K, torch.eye(d, dtype=torch.float64))
    if regime == "two_lines":
        probe = cone_grid(4, 0.8)
        for _ in range(max_tries):
            Q, K, V = torch.randn(d, d, **kw), torch.randn(d, d, **kw), torch.randn(d, d, **kw)
            eig = _sym_eigvals(K.T @ Q)
            if eig[0] * eig[-1] >= 0:
                continue
            attn = Attention("softmax", Q, K, V)
            _, S, blown = evolve(attn, probe, t_end=200.0, h=0.2, max_steps=2000, save_every=10**9)
            on_line, line = line_assignment(attn, S[-1])
            if not blown.any() and on_line.float().mean() >= 0.75 and len(line[on_line].unique()) == 2:
                return attn
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; valid: {', '.join(REGIMES)}")
    raise RuntimeError(f"no weights of regime {regime!r} found in {max_tries} draws")


def cone_grid(points: int, radius: float) -> torch.Tensor:
    """Trace-one 2x2 covariances on a points x points grid of the disc of cone coordinates.

    (a - b, 2c) ranges over [-radius, radius]^2 (radius < 1 keeps S positive definite), a + b = 1.
    """
    u = torch.linspace(-radius, radius, points, dtype=torch.float64)
    x, y = torch.meshgrid(u, u, indexing="ij")
    keep = x**2 + y**2 < radius**2 + 1e-12
    x, y = x[keep], y[keep]
    a, b, c = (1 + x) / 2, (1 - x) / 2, y / 2
    return torch.stack([torch.stack([a, c], -1), torch.stack([c, b], -1)], -2)  # (B, 2, 2)


@torch.no_grad()
def evolve(
    attn: Attention, S0: torch.Tensor, t_end: float, h: float = 0.1, max_steps: int = 20000,
    blowup: float = 1e4, save_every: int = 1,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Integrate the covariance ODE for a batch S0 (B, d, d) up to ``t_end`` or blow-up.

    Each trajectory takes RK4 steps of size h / (|V|_2 (|A S|_F + |A^T S|_F)), which bounds the
    norm of the Jacobian of S -> V S A S + S A^T S V^T (so the steps stay stable). They
    lengthen as A S -> 0 (convergence to 0 or to a limit killed by A, where the decay is only
    algebraic, ~1/t), shorten before a blow-up, and are clipped at ``t_end``. A trajectory
    whose trace exceeds ``blowup`` times its initial trace stops there; one that no longer
    moves (relative change per step below 1e-13: a stationary point reached) stops too. The weights may be batched like S0.
    Returns (times (F, B), S (F, B, d, d), blown_up (B,)), saved every ``save_every`` steps and
    at the end.
    """
    A = score_matrix(attn)
    v_norm = torch.linalg.matrix_norm(attn.V, ord=2)
    field = covariance_field(attn, S0)
    trace0 = S0.diagonal(dim1=-2, dim2=-1).sum(-1)
    S, t = S0.clone(), torch.zeros(len(S0), dtype=S0.dtype)
    blown = torch.zeros(len(S0), dtype=torch.bool)
    settled = torch.zeros(len(S0), dtype=torch.bool)
    times, frames = [t], [S]
    for k in range(1, max_steps + 1):
        running = (t < t_end) & ~blown & ~settled
        if not running.any():
            break
        speed = v_norm * (torch.linalg.matrix_norm(A @ S) + torch.linalg.matrix_norm(A.mT @ S))
        dt = h / speed.clamp(min=1e-300)
        dt = torch.where(running, torch.minimum(dt, t_end - t), torch.zeros_like(t))
        S_next = psd_project(step(field, S, dt[:, None, None]))
        settled = settled | (torch.linalg.matrix_norm(S_next - S) <= 1e-13 * torch.linalg.matrix_norm(S))
        S, t = S_next, t + dt
        blown = blown | (S.diagonal(dim1=-2, dim2=-1).sum(-1) > blowup * trace0)
        if k % save_every == 0:
            times.append(t)
            frames.append(S)
    if frames[-1] is not S:
        times.append(t)
        frames.append(S)
    return torch.stack(times), torch.stack(frames), blown


def isotropic_directions(A: torch.Tensor) -> torch.Tensor:
    """The two unit vectors u (2,) with u^T A u = 0 of a 2x2 A whose symmetric part is indefinite.

    In the eigenbasis of A_s = (A + A^T)/2 with eigenvalues l1 < 0 < l2, u = (cos t, sin t) with
    tan^2 t = -l1 / l2. Returns (2, 2), one direction per row.
    """
    eigvals, eigvecs = torch.linalg.eigh((A + A.T) / 2)
    if eigvals[0] * eigvals[1] >= 0:
        raise ValueError(f"A + A^T has eigenvalues {eigvals.tolist()}: not indefinite, no isotropic lines")
    angle = math.atan(math.sqrt(-eigvals[0].item() / eigvals[1].item()))
    coords = torch.tensor([[math.cos(angle), math.sin(angle)], [math.cos(angle), -math.sin(angle)]],
                          dtype=A.dtype)
    return coords @ eigvecs.T


def line_assignment(attn: Attention, S: torch.Tensor, tol: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor]:
    """Which 2x2 covariances S (B, 2, 2) are rank one on an isotropic line of A, and which line.

    On a line: lambda_min / lambda_max <= tol and the top eigenvector within tol (1 - |cos|)
    of one of the two isotropic directions. Returns (on_line (B,) bool, line index (B,)).
    """
    eigvals, eigvecs = torch.linalg.eigh(S)
    cosines = (eigvecs[..., -1] @ isotropic_directions(score_matrix(attn)).T).abs()  # (B, 2)
    closest = cosines.max(-1)
    rank_one = eigvals[..., 0] <= tol * eigvals[..., -1]
    return rank_one & (1 - closest.values <= tol) & (eigvals[..., -1] > 0), closest.indices


def blowup_time(attn: Attention, S0: torch.Tensor) -> torch.Tensor:
    """Closed-form blow-up time of S' = S (A + A^T) S (V = I): 1 / lambda_max(S0^1/2 (A + A^T) S0^1/2)."""
    A = score_matrix(attn)
    eigvals, eigvecs = torch.linalg.eigh(S0)
    root = eigvecs @ torch.diag_embed(eigvals.clamp(min=0).sqrt()) @ eigvecs.transpose(-1, -2)
    return 1 / torch.linalg.eigvalsh(root @ (A + A.T) @ root)[..., -1]


def _late_slope(times: torch.Tensor, values: torch.Tensor) -> float:
    """Median over trajectories of the log-log slope of values (F, B) against times over the
    last two decades of time (t >= t_end / 100): -1 for a 1/t decay."""
    slopes = []
    for t, v in zip(times.T, values.T):
        late = (t >= t[-1] / 100) & (t > 0)
        slopes.append(torch.linalg.lstsq(
            torch.stack([t[late].log(), torch.ones_like(t[late])], -1), v[late].log().unsqueeze(-1)
        ).solution[0, 0])
    return torch.stack(slopes).median().item()


def signature(regime: str, attn: Attention, times: torch.Tensor, S: torch.Tensor, blown: torch.Tensor) -> dict:
    """The measured signature of ``regime`` from trajectories (times (F, B), S (F, B, 2, 2))."""
    trace = S.diagonal(dim1=-2, dim2=-1).sum(-1)  # (F, B)
    eigvals, eigvecs = torch.linalg.eigh(S[-1])
    eig_ratio = eigvals[:, 0] / eigvals[:, -1]
    if regime == "to_zero":
        return {"max_final_trace_ratio": (trace[-1] / trace[0]).max().item(),
                "trace_decay_slope": _late_slope(times, trace)}
    if regime == "rank_one":
        ratios = torch.linalg.eigvalsh(S)  # (F, B, 2)
        return {"max_final_eig_ratio": eig_ratio.max().item(),
                "eig_ratio_decay_slope": _late_slope(times, ratios[..., 0] / ratios[..., -1]),
                "max_alignment_with_q": (eigvecs[..., -1] @ attn.Q[0]).abs().max().item(),
                "min_final_trace_ratio": (trace[-1] / trace[0]).min().item()}
    if regime == "two_lines":
        on_line, line = line_assignment(attn, S[-1])
        counts = torch.bincount(line[on_line], minlength=2)
        return {"fraction_on_lines": on_line.double().mean().item(),
                "minority_line_share": (counts.min() / counts.sum().clamp(min=1)).item(),
                "fraction_blown": blown.double().mean().item()}
    if regime == "blow_up":
        predicted = blowup_time(attn, S[0])
        return {"fraction_blown": blown.double().mean().item(),
                "max_blowup_time_error": ((times[-1] - predicted).abs() / predicted).max().item(),
                "max_eig_ratio_at_blowup": eig_ratio.max().item()}
    raise ValueError(f"unknown regime {regime!r}; valid: {', '.join(REGIMES)}")
