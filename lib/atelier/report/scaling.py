"""Scaling-law fits: L(N, D) = E + A / N^alpha + B / D^beta, the Chinchilla form.

Fitted as Hoffmann et al. (2022) do: in log space, log L_hat = logsumexp(a - alpha log N,
b - beta log D, e) with A = exp(a), B = exp(b), E = exp(e), minimising the Huber loss of
log L_hat - log L with L-BFGS from a grid of starting points and keeping the best. The log-space
Huber objective weighs small and large losses alike and shrugs off the odd diverged run.
Studies 01 and 08 share it.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from scipy.optimize import minimize
from scipy.special import huber, logsumexp


@dataclasses.dataclass(frozen=True)
class ScalingFit:
    """A fitted law L(N, D) = E + A / N^alpha + B / D^beta."""

    E: float
    A: float
    alpha: float
    B: float
    beta: float
    objective: float

    def predict(self, N, D) -> np.ndarray:
        N, D = np.asarray(N, float), np.asarray(D, float)
        return self.E + self.A / N**self.alpha + self.B / D**self.beta

    def to_dict(self) -> dict[str, float]:
        return dataclasses.asdict(self)


def _objective(theta: np.ndarray, logN: np.ndarray, logD: np.ndarray, logL: np.ndarray, delta: float) -> float:
    a, b, e, alpha, beta = theta
    terms = np.stack([a - alpha * logN, b - beta * logD, np.full_like(logN, e)])
    return float(huber(delta, logsumexp(terms, axis=0) - logL).sum())


def fit_scaling_law(N, D, L, delta: float = 1e-3, grid: dict | None = None) -> ScalingFit:
    """Fit E + A/N^alpha + B/D^beta to losses L at model sizes N and token counts D.

    ``grid`` maps each of a, b, e, alpha, beta (a = log A, b = log B, e = log E) to the starting
    values tried; every combination is optimised with L-BFGS-B and the lowest objective wins.
    """
    N, D, L = (np.asarray(v, float) for v in (N, D, L))
    if not (N.shape == D.shape == L.shape) or N.ndim != 1 or len(N) < 5:
        raise ValueError(f"need equal-length 1-D N, D, L with >= 5 points, got shapes {N.shape}, {D.shape}, {L.shape}")
    if (N <= 0).any() or (D <= 0).any() or (L <= 0).any():
        raise ValueError("N, D and L must be positive")
    logN, logD, logL = np.log(N), np.log(D), np.log(L)
    grid = grid or {
        "a": [0.0, 5.0, 10.0], "b": [0.0, 5.0, 10.0], "e": [np.log(L.min()) - 1.0, np.log(L.min()) - 0.1],
        "alpha": [0.2, 0.5, 1.0], "beta": [0.2, 0.5, 1.0],
    }
    bounds = [(-20, 40), (-20, 40), (-10, np.log(L.min()) + 1e-6), (0.0, 3.0), (0.0, 3.0)]
    best = None
    for start in itertools.product(*(grid[k] for k in ("a", "b", "e", "alpha", "beta"))):
        res = minimize(_objective, np.array(start, float), args=(logN, logD, logL, delta),
                       method="L-BFGS-B", bounds=bounds)
        if best is None or res.fun < best.fun:
            best = res
    a, b, e, alpha, beta = best.x
    return ScalingFit(E=float(np.exp(e)), A=float(np.exp(a)), alpha=float(alpha),
                      B=float(np.exp(b)), beta=float(beta), objective=float(best.fun))


def relative_error(fit: ScalingFit, N, D, L) -> np.ndarray:
    """|L_hat - L| / L at each point: the held-out error of a fitted law."""
    L = np.asarray(L, float)
    return np.abs(fit.predict(N, D) - L) / L
