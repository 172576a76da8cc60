"""The optimal learning rate of a loss-vs-LR curve, from a parabola fitted in log2 LR.

Near its minimum a loss-vs-log-LR curve is close to a parabola, so the vertex of a quadratic
through the grid minimum and its neighbours locates the optimum between grid points. Points
whose training diverged (non-finite loss) are dropped. When the grid minimum sits at an end of
the grid the optimum is not bracketed: the vertex is then clipped to the grid and flagged.

The uncertainty of an optimum comes from the initialisations: ``bootstrap_optima`` resamples them
(with replacement, the same draw for every curve, as every curve used the same seeds), refits every
curve's parabola to the resampled mean losses, and ``bootstrap_intervals`` turns the draws into
percentile intervals of each optimum and of each parameterisation's drift.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl


@dataclasses.dataclass(frozen=True)
class Optimum:
    log2_lr: float  # the fitted optimum (a log2 LR, or any log-scale knob)
    loss: float  # the parabola's value there (the grid minimum when no parabola fits)
    bracketed: bool  # False when the grid minimum is at an end of the grid


def fit_optimum(log2_lrs, losses, window: int = 5) -> Optimum:
    """Vertex of the least-squares parabola through the ``window`` finite points centred on the grid minimum."""
    if window < 3:
        raise ValueError(f"window={window}: a parabola needs at least 3 points")
    x, y = np.asarray(log2_lrs, dtype=float), np.asarray(losses, dtype=float)
    keep = np.isfinite(y)
    order = np.argsort(x[keep])
    x, y = x[keep][order], y[keep][order]
    if len(x) == 0:
        return Optimum(np.nan, np.nan, False)
    i = int(np.argmin(y))
    bracketed = 0 < i < len(x) - 1
    if len(x) < 3:
        return Optimum(float(x[i]), float(y[i]), False)
    lo = min(max(i - window // 2, 0), max(len(x) - window, 0))
    xs, ys = x[lo:lo + window], y[lo:lo + window]
    a, b, c = np.polyfit(xs, ys, 2)
    if a <= 0:  # no upward curvature: keep the grid minimum
        return Optimum(float(x[i]), float(y[i]), bracketed)
    vertex = float(np.clip(-b / (2 * a), xs.min(), xs.max()))
    return Optimum(vertex, float(np.polyval([a, b, c], vertex)), bracketed)


def optima(sweep: pl.DataFrame, by: list[str], x: str = "log2_lr", window: int = 5) -> pl.DataFrame:
    """One row per curve of ``sweep`` (columns ``by``, ``x`` and loss): the fitted optimum, as columns
    opt_<x>, opt_loss and bracketed."""
    rows = []
    for keys, curve in sweep.sort(by).group_by(by, maintain_order=True):
        best = fit_optimum(curve[x], curve["loss"], window)
        rows.append({**dict(zip(by, keys)), f"opt_{x}": best.log2_lr, "opt_loss": best.loss,
                     "bracketed": best.bracketed})
    return pl.DataFrame(rows)


def drift(optimal: pl.DataFrame, by: str) -> pl.DataFrame:
    """Per ``by`` group: how far the optimal log2 LR moves over the sizes (max - min)."""
    return (optimal.group_by(by, maintain_order=True)
            .agg((pl.col("opt_log2_lr").max() - pl.col("opt_log2_lr").min()).alias("drift_log2"),
                 pl.col("bracketed").all().alias("all_bracketed")))


def bootstrap_optima(sweep: pl.DataFrame, by: list[str], draws: int, seed: int, window: int = 5) -> pl.DataFrame:
    """Optima of every curve of ``sweep`` (columns ``by``, log2_lr, seed_losses) refitted to the mean over
    resampled initialisations: columns draw, ``by``, opt_log2_lr. Curves with k seeds share one draw of
    k indices (common random numbers across curves are kept)."""
    rng = np.random.default_rng(seed)
    curves = [(dict(zip(by, keys)), curve["log2_lr"].to_numpy(), np.array(curve["seed_losses"].to_list(), dtype=float))
              for keys, curve in sweep.sort(by + ["log2_lr"]).group_by(by, maintain_order=True)]
    rows = []
    for d in range(draws):
        picks: dict[int, np.ndarray] = {}
        for keys, x, losses in curves:  # losses: [n_lrs, k seeds]
            k = losses.shape[1]
            idx = picks.setdefault(k, rng.integers(0, k, k))
            rows.append({"draw": d, **keys, "opt_log2_lr": fit_optimum(x, losses[:, idx].mean(axis=1), window).log2_lr})
    return pl.DataFrame(rows)


def bootstrap_intervals(boot: pl.DataFrame, group: str, size: str, level: float = 0.9
                        ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per group and size: opt_lo, opt_hi; per group: drift_lo, drift_hi), central ``level`` percentile
    intervals of the bootstrap draws (the drift is max - min over sizes within each draw)."""
    lo, hi = (1 - level) / 2, (1 + level) / 2
    optima_ci = boot.group_by(group, size, maintain_order=True).agg(
        pl.col("opt_log2_lr").quantile(lo).alias("opt_lo"), pl.col("opt_log2_lr").quantile(hi).alias("opt_hi"))
    drifts = boot.group_by(group, "draw").agg(
        (pl.col("opt_log2_lr").max() - pl.col("opt_log2_lr").min()).alias("drift"))
    drift_ci = drifts.group_by(group, maintain_order=True).agg(
        pl.col("drift").quantile(lo).alias("drift_lo"), pl.col("drift").quantile(hi).alias("drift_hi")).sort(group)
    return optima_ci.sort(group, size), drift_ci
