"""Scaling-law fits: L(N, D) = E + A / N^alpha + B / D^beta, the Chinchilla form.

Fitted as Hoffmann et al. (2022) do: in log space, log L_hat = logsumexp(a - alpha log N,
b - beta log D, e) with A = exp(a), B = exp(b), E = exp(e), minimising the Huber loss of
log L_hat - log L with L-BFGS from a grid of starting points and keeping the best. The log-space
Huber objective weighs small and large losses alike and shrugs off the odd diverged run.
Studies 01 and 08 share it; fit_log_law fits any other law the same way.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Callable, Sequence

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
    bounds = {"a": (-20, 40), "b": (-20, 40), "e": (-10, np.log(L.min()) + 1e-6), "alpha": (0.0, 3.0),
              "beta": (0.0, 3.0)}

    def log_law(t: dict) -> np.ndarray:
        terms = np.stack([t["a"] - t["alpha"] * logN, t["b"] - t["beta"] * logD, np.full_like(logN, t["e"])])
        return logsumexp(terms, axis=0)

    fit = fit_log_law(log_law, L, {k: grid[k] for k in ("a", "b", "e", "alpha", "beta")}, bounds, delta)
    t = fit.params
    return ScalingFit(E=float(np.exp(t["e"])), A=float(np.exp(t["a"])), alpha=t["alpha"],
                      B=float(np.exp(t["b"])), beta=t["beta"], objective=fit.objective)


@dataclasses.dataclass(frozen=True)
class LawFit:
    """The fitted parameters of any law (named as in its starting grid) and the objective reached."""

    params: dict[str, float]
    objective: float


def fit_log_law(log_law: Callable[[dict], np.ndarray], y, starts: dict[str, Sequence[float]],
                bounds: dict[str, tuple[float, float]] | None = None, delta: float = 1e-3) -> LawFit:
    """Fit any law to positive observations y by its log prediction, as fit_scaling_law does.

    ``log_law(params)`` maps a dict of parameter values to the predicted log y at every
    observation. Minimises sum huber(delta, log_law(params) - log y) with L-BFGS-B from every
    combination of the ``starts`` values (within ``bounds``, None = unbounded); the lowest wins.
    """
    y = np.asarray(y, float)
    if (y <= 0).any() or not np.isfinite(y).all():
        raise ValueError("a log-space fit needs finite positive observations y")
    names, logy = list(starts), np.log(y)
    box = [(bounds or {}).get(name, (None, None)) for name in names]

    def objective(theta: np.ndarray) -> float:
        return float(huber(delta, log_law(dict(zip(names, theta))) - logy).sum())

    best = None
    for start in itertools.product(*(starts[name] for name in names)):
        res = minimize(objective, np.array(start, float), method="L-BFGS-B", bounds=box)
        if best is None or res.fun < best.fun:
            best = res
    return LawFit(params={name: float(v) for name, v in zip(names, best.x)}, objective=float(best.fun))


def relative_error(fit: ScalingFit, N, D, L) -> np.ndarray:
    """|L_hat - L| / L at each point: the held-out error of a fitted law."""
    L = np.asarray(L, float)
    return np.abs(fit.predict(N, D) - L) / L
