"""The study's claims, measured from the experiment tables."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.stats import spearmanr

from atelier.report import Claim


def _mean_rank_correlation(frame: pl.DataFrame, by: list[str], x: str, y: str) -> float:
    """Mean over the groups of ``by`` of the Spearman correlation between columns x and y."""
    return float(np.mean([spearmanr(g[x], g[y]).statistic for _, g in frame.group_by(by)]))


def _or_nan(value) -> float:
    return float("nan") if value is None else float(value)


def u_curve_depth(trajectories: pl.DataFrame) -> float:
    """For the smallest target set at p = 0: the smaller of the fall (before -> lowest) and the
    rise (lowest -> end) of the target validation loss, minimised over sizes and targets (nats)."""
    small = trajectories.filter((pl.col("p") == 0) & (pl.col("target_tokens") == pl.col("target_tokens").min()))
    shape = small.sort("step").group_by("width", "domain").agg(
        fall=pl.col("target_loss").first() - pl.col("target_loss").min(),
        rise=pl.col("target_loss").last() - pl.col("target_loss").min())
    return float(shape.select(pl.min_horizontal("fall", "rise").min()).item())


def study_claims(trajectories: pl.DataFrame, runs: pl.DataFrame, knee: pl.DataFrame,
                 laws: pl.DataFrame) -> list[Claim]:
    clean = trajectories.filter((pl.col("p") == 0) & (pl.col("step") > 0))
    at_1 = knee.filter(pl.col("p") == 0.01)
    forgetting_laws = laws.filter(pl.col("law").str.starts_with("forgetting"))
    best = forgetting_laws.group_by("law").agg(pl.col("fit_rel_error").mean(), pl.col("heldout_rel_error").mean())
    best = best.sort("fit_rel_error", nulls_last=True).row(0, named=True)  # chosen on the fitted points only
    return [
        Claim("forgetting_grows_with_steps",
              "Forgetting grows with finetuning steps: Spearman correlation of step and forgetting along each run "
              "without injection, averaged over sizes, targets and set sizes.",
              _mean_rank_correlation(clean, ["width", "domain", "target_tokens"], "step", "forgetting"), ">=", 0.9,
              figure="forgetting_vs_steps"),
        Claim("forgetting_shrinks_with_size",
              "Forgetting shrinks with model size: Spearman correlation of N and the forgetting at the end of "
              "finetuning without injection, averaged over targets and set sizes.",
              _mean_rank_correlation(runs.filter(pl.col("p") == 0), ["domain", "target_tokens"], "params",
                                     "forgetting_end"), "<=", -0.8, figure="forgetting_vs_steps"),
        Claim("injection_1pct_removes_forgetting",
              "Injecting p = 1% pretraining data removes at least 80% of the forgetting at p = 0 (end of "
              "finetuning, mean over sizes, targets and set sizes).",
              at_1["removed_end"].item() if at_1.height else float("nan"), ">=", 0.8, figure="injection_knee"),
        Claim("injection_1pct_keeps_target_loss",
              "With p = 1% the early-stopped target loss stays within 2% of p = 0 (|mean relative change| over "
              "sizes, targets and set sizes).",
              abs(at_1["target_change"].item()) if at_1.height else float("nan"), "<=", 0.02,
              figure="injection_knee"),
        Claim("forgetting_law_heldout_error",
              f"The forgetting law ({best['law'].removeprefix('forgetting ').strip('()')} variant, the better fit on "
              "the fitted sizes) predicts the early-stopped forgetting of the held-out largest model within 10% "
              "(mean relative error, averaged over targets; early stop located in continuous time on the larger "
              "target validation set, on the losses averaged over the pretraining seeds).",
              _or_nan(best["heldout_rel_error"]), "<=", 0.10, figure="law_fits"),
        Claim("overfitting_u_curve",
              "On the smallest target set the target validation loss falls then rises (the smaller of fall and "
              "rise, in nats, over every size and target).",
              u_curve_depth(trajectories), ">=", 0.05, figure="target_loss_vs_steps"),
    ]
