"""The two laws of the study, fitted with atelier.report's log-space Huber fitters.

Forgetting (reconstructed from the paper's description). With N the non-embedding parameters,
D the unique target tokens and p the injected fraction, the forgetting rate is

    f(N, D, p) = A * D^b / ((1 + B p) N)^a,

injection acting as if the model had (1 + B p) times more parameters for the pretraining
task. Two variants say how it moves the pretraining loss L_pt from its value before finetuning:

    additive:        L_pt(after) = L_pt(before) + f          (forgetting F = f nats)
    multiplicative:  L_pt(after) = L_pt(before) * (1 + f)    (forgetting F = L_pt(before) f)

Both are fitted to the forgetting at the early-stopped checkpoint (lowest target validation
loss) in log space, log f against log F (additive) or log(F / L_pt(before)) (multiplicative),
and judged by the relative error of the predicted forgetting F. At cpu scale the early stop
comes a few steps into finetuning, so it is located in continuous time, not on the integer
step grid (experiments.continuous_early_stop says why).

Target loss: E + A / N^alpha + B / D^beta on the early-stopped target loss
(atelier.report.fit_scaling_law).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl

from atelier.report import ScalingFit, fit_log_law, fit_scaling_law

VARIANTS = ("additive", "multiplicative")
STARTS = {"logA": [-5.0, 0.0, 5.0], "logB": [0.0, 3.0, 6.0], "a": [0.2, 1.0], "b": [0.1, 0.5]}
BOUNDS = {"logB": (-10.0, 15.0), "a": (0.0, 4.0), "b": (-1.0, 3.0)}
MIN_POINTS = len(STARTS) + 1  # fewest points a forgetting law is fitted to


@dataclasses.dataclass(frozen=True)
class ForgettingLaw:
    """f = A D^b / ((1 + B p) N)^a, turned into forgetting by ``variant``."""

    variant: str
    A: float
    B: float
    a: float
    b: float

    def rate(self, N, D, p) -> np.ndarray:
        N, D, p = (np.asarray(v, float) for v in (N, D, p))
        return self.A * D**self.b / ((1 + self.B * p) * N) ** self.a

    def forgetting(self, N, D, p, before) -> np.ndarray:
        """Predicted L_pt(after) - L_pt(before) in nats."""
        f = self.rate(N, D, p)
        return f if self.variant == "additive" else np.asarray(before, float) * f


def log_rate(t: dict, N: np.ndarray, D: np.ndarray, p: np.ndarray) -> np.ndarray:
    """log f with logA = log A and logB = log B."""
    return t["logA"] + t["b"] * np.log(D) - t["a"] * (np.log1p(np.exp(t["logB"]) * p) + np.log(N))


def fit_forgetting(points: pl.DataFrame, variant: str) -> ForgettingLaw:
    """Fit the law to rows with params (N), target_tokens (D), p, before and forgetting > 0."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown forgetting-law variant {variant!r}; valid: {', '.join(VARIANTS)}")
    N, D, p, before, F = (points[c].to_numpy().astype(float) for c in ("params", "target_tokens", "p", "before",
                                                                         "forgetting"))
    if len(F) < MIN_POINTS or (F <= 0).any():
        raise ValueError(f"need at least {MIN_POINTS} points of positive forgetting, got {len(F)} "
                         f"({int((F <= 0).sum())} not positive)")
    y = F if variant == "additive" else F / before
    fit = fit_log_law(lambda t: log_rate(t, N, D, p), y, STARTS, BOUNDS)
    t = fit.params
    return ForgettingLaw(variant, A=float(np.exp(t["logA"])), B=float(np.exp(t["logB"])), a=t["a"], b=t["b"])


def fit_target(points: pl.DataFrame) -> ScalingFit:
    """E + A / N^alpha + B / D^beta fitted to the early-stopped target loss of rows (params, target_tokens)."""
    return fit_scaling_law(points["params"].to_numpy(), points["target_tokens"].to_numpy(),
                           points["target_best"].to_numpy())
