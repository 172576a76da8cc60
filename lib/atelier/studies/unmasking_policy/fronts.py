"""Accuracy-vs-NFE fronts of unmasking rules, and how to compare two fronts.

Every rule, heuristic or learned, runs through atelier.diffusion.sample on the same prompts
with greedy (argmax) proposals; a setting of a rule's knob (k, tau, factor, the policy's
operating threshold) gives one point (mean NFE per example, accuracy). A rule's front is the
upper concave hull of its points up to its most accurate one (mixing two settings example by
example reaches any point between them), flat beyond (a larger budget may go unused); it is
undefined below its smallest NFE.

gap(a, b) is the mean of front_a(n) - front_b(n) over n on a grid of the NFE range both fronts
cover ([the larger of the two smallest NFEs, the larger of the two largest]): the difference of
the areas under the fronts per unit NFE, in accuracy points; gap_se is its bootstrap standard
error over the evaluation examples (paired: every rule sees the same resamples).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import torch

from atelier.diffusion import sample
from atelier.studies.unmasking_policy import data
from atelier.studies.unmasking_policy.policy import PolicyRule, UnmaskingPolicy

HEURISTICS = ("random", "topk", "threshold", "factor")


def settings(cfg) -> list[tuple[str, float, dict]]:
    """(method, knob value, sample() keywords) of every heuristic setting in cfg's sweeps."""
    return ([("random", k, {"method": "random", "k": k}) for k in cfg.random_ks]
            + [("topk", k, {"method": "topk", "k": k}) for k in cfg.topk_ks]
            + [("threshold", tau, {"method": "threshold", "tau": tau}) for tau in cfg.taus]
            + [("factor", f, {"method": "factor", "factor": f}) for f in cfg.factors])


def run_rule(model, frame: pl.DataFrame, prompt_len: int, buffer: int, block: int | None, seed: int,
             **kwargs) -> pl.DataFrame:
    """One rule on every example of frame: columns task, correct, nfe (one row per example)."""
    prompts = data.masked_prompts(frame, prompt_len, buffer)
    generator = torch.Generator().manual_seed(seed)
    tokens, nfe = sample(model, prompts, mask_id=data.VOCAB.mask_id, block=block, generator=generator, **kwargs)
    return pl.DataFrame({"task": frame["task"], "correct": data.judge(tokens, frame, prompt_len).numpy(),
                         "nfe": nfe.numpy()})


def front_table(model, frame: pl.DataFrame, cfg, prompt_len: int, buffer: int, policy: UnmaskingPolicy | None = None,
                block: int | None = None, seed: int = 0, heuristics: bool = True,
                policy_name: str = "policy") -> pl.DataFrame:
    """Points of every heuristic setting and of the policy at every threshold of cfg.taus: method,
    knob, task, replicate, accuracy, nfe.

    task "all" pools the examples of every task in frame; the policy's points are named
    policy_name. replicate 0 holds the points of the examples themselves, replicates 1 to
    cfg.bootstrap the points of bootstrap resamples of the examples (one resample per
    replicate, the same for every rule, so that differences between rules are paired)."""
    model.eval()
    runs = settings(cfg) if heuristics else []
    if policy is not None:
        runs += [(policy_name, tau, {"method": PolicyRule(policy.eval(), prompt_len, tau=tau)}) for tau in cfg.taus]
    rng = np.random.default_rng(seed)
    resamples = [np.arange(len(frame))] + [rng.integers(0, len(frame), len(frame)) for _ in range(cfg.bootstrap)]
    parts = []
    for method, knob, kwargs in runs:
        per_example = run_rule(model, frame, prompt_len, buffer, block, seed, **kwargs)
        for replicate, rows in enumerate(resamples):
            sample_ = per_example[rows]
            pooled = sample_.with_columns(task=pl.lit("all"))
            parts.append(pl.concat([sample_, pooled]).group_by("task", maintain_order=True)
                         .agg(accuracy=pl.col("correct").mean(), nfe=pl.col("nfe").mean())
                         .with_columns(method=pl.lit(method), knob=pl.lit(float(knob)), replicate=pl.lit(replicate)))
    return pl.concat(parts).select("method", "knob", "task", "replicate", "accuracy", "nfe")


def observed(points: pl.DataFrame) -> pl.DataFrame:
    """The points of the examples themselves (replicate 0), without the bootstrap resamples."""
    return points.filter(pl.col("replicate") == 0) if "replicate" in points.columns else points


def replicates(points: pl.DataFrame) -> list[pl.DataFrame]:
    """The points of each bootstrap resample (replicates 1, 2, ...), without the replicate column."""
    reps = [r for r in points["replicate"].unique().sort().to_list() if r > 0] if "replicate" in points.columns else []
    return [points.filter(pl.col("replicate") == r).drop("replicate") for r in reps]


def spread(values) -> float:
    """Standard deviation of a statistic over bootstrap replicates: its standard error (nan under two)."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def gap_se(points: pl.DataFrame, method_a: str, method_b: str) -> float:
    """Standard error of gap(a, b): its standard deviation over the bootstrap replicates (nan if none)."""
    return spread([gap(rep, method_a, method_b) for rep in replicates(points)])


def envelope(nfe, accuracy) -> tuple[np.ndarray, np.ndarray]:
    """The front of points: the upper concave hull from the point of least NFE (the most accurate
    among ties) to the most accurate point (the least NFE among ties): increasing NFE, strictly
    increasing accuracy, concave. Mixing two settings example by example reaches every point of
    the segment between them, so the hull is what a rule achieves with its settings."""
    n, a = np.asarray(nfe, float), np.asarray(accuracy, float)
    order = np.lexsort((-a, n))  # by NFE, the most accurate first among ties
    xs, ys = [], []
    for x, y in zip(n[order], a[order]):
        if xs and x == xs[-1]:
            continue  # a tie in NFE: the first (most accurate) was kept
        # pop the last vertex while it lies on or under the chord from the one before it to (x, y)
        while len(xs) >= 2 and (ys[-1] - ys[-2]) * (x - xs[-2]) <= (y - ys[-2]) * (xs[-1] - xs[-2]):
            xs.pop()
            ys.pop()
        xs.append(x)
        ys.append(y)
    peak = int(np.argmax(ys))  # the first most accurate vertex; beyond it the hull descends
    return np.array(xs[:peak + 1]), np.array(ys[:peak + 1])


def front_at(front: tuple[np.ndarray, np.ndarray], n) -> np.ndarray:
    """Accuracy of the front at NFE n (nan below its smallest NFE, flat beyond its largest)."""
    xs, ys = front
    n = np.asarray(n, float)
    return np.where(n < xs[0], np.nan, np.interp(n, xs, ys))


def gap(points: pl.DataFrame, method_a: str, method_b: str, grid: int = 201) -> float:
    """Mean over the shared NFE range of front_a - front_b (points of one task and one mode; of
    replicate 0 when points hold bootstrap replicates)."""
    points = observed(points)
    fronts = []
    for method in (method_a, method_b):
        sub = points.filter(pl.col("method") == method)
        if sub.is_empty():
            raise ValueError(f"no points of method {method!r}; have {points['method'].unique().to_list()}")
        fronts.append(envelope(sub["nfe"], sub["accuracy"]))
    lo = max(f[0][0] for f in fronts)
    hi = max(f[0][-1] for f in fronts)
    if hi <= lo:
        return float(front_at(fronts[0], lo) - front_at(fronts[1], lo))
    n = np.linspace(lo, hi, grid)
    return float(np.mean(front_at(fronts[0], n) - front_at(fronts[1], n)))


def matched_gaps(points: pl.DataFrame, method: str = "policy") -> pl.DataFrame:
    """At every heuristic point inside the policy's NFE range: the policy front's accuracy there
    minus the point's (columns method, knob, nfe, accuracy, policy_accuracy, gain)."""
    points = observed(points)
    front = envelope(*points.filter(pl.col("method") == method).select("nfe", "accuracy"))
    others = points.filter(pl.col("method") != method)
    return (others.with_columns(policy_accuracy=pl.Series(front_at(front, others["nfe"].to_numpy())))
            .drop_nans("policy_accuracy").with_columns(gain=pl.col("policy_accuracy") - pl.col("accuracy")))
