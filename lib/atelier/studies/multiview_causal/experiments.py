"""Study 07's Config and experiments: simulation sweeps and the EEG pipeline.

Every experiment returns a polars frame with one row per (setting, repetition, method), which
``summarize`` turns into means with 95% t-intervals for the charts and the claims.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import polars as pl
from scipy import stats

from atelier.studies.multiview_causal import eeg, metrics, sem
from atelier.studies.multiview_causal.config import METHOD_NAMES, Config
from atelier.studies.multiview_causal.baselines import ica_lingam_per_view, multigroup_direct_lingam
from atelier.studies.multiview_causal.limvam import CausalFit, ica_limvam
from atelier.studies.multiview_causal.mvica import multiviewica_status

METHODS: dict[str, tuple[str, Callable[[np.ndarray, int], CausalFit]]] = {
    "limvam_shica_ml": ("ICA-LiMVAM (ShICA-ML)", lambda X, seed: ica_limvam(X, "shica_ml", seed)),
    "limvam_shica_j": ("ICA-LiMVAM (ShICA-J)", lambda X, seed: ica_limvam(X, "shica_j", seed)),
    "limvam_multiviewica": ("ICA-LiMVAM (MultiViewICA)", lambda X, seed: ica_limvam(X, "multiviewica", seed)),
    "ica_lingam": ("ICA-LiNGAM per view", ica_lingam_per_view),
    "multigroup_direct_lingam": ("MultiGroupDirectLiNGAM", multigroup_direct_lingam),
}
assert tuple(METHODS) == METHOD_NAMES, "config.METHOD_NAMES must list the methods of METHODS"
FACTORS = {  # sweep factor -> (simulate() argument, axis title)
    "n_samples": ("n_samples", "samples per view n"),
    "n_views": ("n_views", "views m"),
    "noise_level": ("noise_level", "noise level (multiplies the noise std)"),
    "n_gaussian": ("n_gaussian", "Gaussian disturbances (of p)"),
    "n_equal": ("n_equal", "views whose Gaussian noise variances are equal"),
}
BOUNDS = {"order_error": (0.0, 1.0), "spearman": (-1.0, 1.0), "amari": (0.0, 1.0), "f1": (0.0, 1.0)}  # others are >= 0
METRICS = {  # column -> axis title
    "order_error": "exact-order error",
    "spearman": "Spearman of orders",
    "mse_B": "MSE of B",
    "amari": "Amari distance",
}


def runnable(methods: tuple[str, ...]) -> tuple[list[str], str]:
    """The methods that can run here and a note on any left out (MultiViewICA when it won't import)."""
    reason = multiviewica_status()
    if reason and "limvam_multiviewica" in methods:
        return [m for m in methods if m != "limvam_multiviewica"], f"ICA-LiMVAM (MultiViewICA) left out: {reason}"
    return list(methods), ""


def score(fit: CausalFit, sample: sem.MultiViewSample) -> dict[str, float]:
    """Order, effect and unmixing errors of a fit, averaged over the views."""
    return {
        "order_error": float(np.mean([metrics.exact_order_error(o, sample.order) for o in fit.orders])),
        "spearman": float(np.mean([metrics.order_spearman(o, sample.order) for o in fit.orders])),
        "mse_B": metrics.mse(fit.B, sample.B),
        "amari": float(np.mean([metrics.amari_distance(W, A) for W, A in zip(fit.W, sample.mixing)])),
        "seconds": fit.seconds,
    }


def sweep(cfg: Config, factor: str, seed: int = 0, methods: tuple[str, ...] | None = None) -> pl.DataFrame:
    """Vary ``factor`` over its grid in ``cfg``, the rest at cfg's values; score every method."""
    if factor not in FACTORS:
        raise ValueError(f"unknown factor {factor!r}; valid: {', '.join(FACTORS)}")
    grid = {"n_samples": cfg.samples_grid, "n_views": cfg.views_grid, "noise_level": cfg.noise_grid,
            "n_gaussian": cfg.gaussian_grid, "n_equal": cfg.equal_grid}[factor]
    names, _ = runnable(methods or cfg.methods)
    base = dict(n_views=cfg.n_views, n_vars=cfg.n_vars, n_samples=cfg.n_samples, n_gaussian=cfg.n_gaussian,
                noise_level=cfg.noise_level, n_equal=0)
    rows = []
    for v, value in enumerate(grid):
        for rep in range(cfg.reps):
            rng = np.random.default_rng([seed, list(FACTORS).index(factor), v, rep])
            sample = sem.simulate(rng, **{**base, FACTORS[factor][0]: value})
            for name in names:
                fit = METHODS[name][1](sample.X, seed + rep)
                rows.append({"factor": factor, "value": float(value), "rep": rep, "method": METHODS[name][0],
                             **score(fit, sample)})
    return pl.DataFrame(rows)


def summarize(df: pl.DataFrame, columns: tuple[str, ...] = (*METRICS, "seconds"),
              by: tuple[str, ...] = ("factor", "value", "method")) -> pl.DataFrame:
    """Mean and 95% t-interval of each column per group (long format: one row per column).

    Intervals are clipped to the metric's range (an error rate stays in [0, 1]).
    """
    long = df.unpivot(index=list(by), on=list(columns), variable_name="metric", value_name="x")
    out = long.group_by([*by, "metric"], maintain_order=True).agg(
        pl.col("x").mean().alias("mean"), pl.col("x").std().fill_null(0.0).alias("sd"), pl.len().alias("reps"))
    t = np.array([stats.t.ppf(0.975, max(r - 1, 1)) for r in out["reps"]])
    half = pl.Series(t) * out["sd"] / out["reps"].cast(pl.Float64).sqrt()
    lo = pl.col("metric").replace_strict({k: v[0] for k, v in BOUNDS.items()}, default=0.0)
    hi = pl.col("metric").replace_strict({k: v[1] for k, v in BOUNDS.items()}, default=float("inf"))
    return out.with_columns(pl.max_horizontal(pl.col("mean") - half, lo).alias("low"),
                            pl.min_horizontal(pl.col("mean") + half, hi).alias("high"))


def model_sample(cfg: Config, seed: int = 0, n_samples: int = 500) -> sem.MultiViewSample:
    """One draw with half of the shared components Gaussian, to show the model."""
    rng = np.random.default_rng([seed, 99])
    return sem.simulate(rng, cfg.n_views, cfg.n_vars, n_samples, n_gaussian=cfg.n_vars // 2,
                        noise_level=cfg.noise_level)


def noise_table(sample: sem.MultiViewSample) -> pl.DataFrame:
    """Noise variances sigma_ij^2 of a sample, one row per (view, component)."""
    m, p = sample.noise_std.shape
    kind = np.where(sample.gaussian, "Gaussian", "Laplace")
    return pl.DataFrame([{"view": i + 1, "component": j + 1, "variance": float(sample.noise_std[i, j] ** 2),
                          "kind": str(kind[j])} for i in range(m) for j in range(p)])


def eeg_graph(B: np.ndarray, order: np.ndarray, threshold: float) -> np.ndarray:
    """Edges b -> a where mean_i |B_i[a, b]| > threshold and the order allows it, (R, R) bool."""
    pos = metrics.positions(order)
    return (np.mean(np.abs(B), axis=0) > threshold) & (pos[None, :] < pos[:, None])


def eeg_study(cfg: Config, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame, eeg.EEGModel]:
    """The MNE pipeline ``cfg.eeg_reps`` times; per (rep, method) scores and the graphs' edges.

    Returns (scores: rep, method, f1, chance_f1, order_violations, seconds; edges: rep, method,
    source, target, weight, status in true positive | false positive | missed, for drawing).
    """
    rng = np.random.default_rng([seed, 7])
    model = eeg.build_model(rng, cfg.eeg_regions, grid_mm=cfg.eeg_grid_mm, snr=cfg.eeg_snr)
    names, _ = runnable(cfg.methods)
    scores, edges = [], []
    for rep in range(cfg.eeg_reps):
        sample = sem.simulate(rng, cfg.eeg_subjects, cfg.eeg_regions, cfg.eeg_samples, cfg.eeg_gaussian,
                              n_edges=cfg.eeg_edges, weight_range=(0.5, 0.9))
        regions = eeg.region_time_courses(model, eeg.sensors(model, sample.X, rng), cfg.eeg_snr)  # (m, R, n)
        true = np.any(sample.B != 0, axis=0)
        chance = metrics.chance_edge_f1(true, cfg.chance_draws, rng)
        graphs = {"simulated": (true, np.mean(np.abs(sample.B), axis=0))}
        for name in names:
            fit = METHODS[name][1](regions, seed + rep)
            order = metrics.consensus_order(fit.orders)  # per-view ICA-LiNGAM has one order per subject
            found = eeg_graph(fit.B, order, cfg.eeg_threshold)
            graphs[METHODS[name][0]] = (found, np.mean(np.abs(fit.B), axis=0))
            scores.append({"rep": rep, "method": METHODS[name][0], "f1": metrics.edge_f1(found, true),
                           "chance_f1": chance, "order_violations": metrics.order_violations(order, true),
                           "seconds": fit.seconds})
        for method, (found, weight) in graphs.items():
            for a, b in zip(*np.nonzero(found | true)):
                status = "simulated" if method == "simulated" else (
                    "true positive" if found[a, b] and true[a, b] else "false positive" if found[a, b] else "missed")
                edges.append({"rep": rep, "method": method, "source": model.names[b], "target": model.names[a],
                              "weight": float(weight[a, b]), "status": status})
    return pl.DataFrame(scores), pl.DataFrame(edges), model
