"""The study's claims, measured from the run summaries (never asserted)."""

from __future__ import annotations

import numpy as np
import polars as pl

from atelier.report import Claim
from atelier.studies.quality_filtering.analysis import accuracy_stderr


def measure_claims(summary: pl.DataFrame, quantiles: pl.DataFrame, n_questions: int) -> list[Claim]:
    """Claims of the paper, from analysis.summary and analysis.quantile_losses.

    n_questions: questions behind each mean accuracy (for its binomial standard error).
    """
    filt = summary.filter(pl.col("setting") == "filtering").sort("value")
    strongest, unfiltered = filt.row(0, named=True), filt.row(-1, named=True)
    a0, a1 = unfiltered["mean_accuracy"], strongest["mean_accuracy"]
    se = np.hypot(accuracy_stderr(a0, n_questions), accuracy_stderr(a1, n_questions))
    rel_acc = (a1 - a0) / a0
    rel_loss = (unfiltered["hq_loss"] - strongest["hq_loss"]) / unfiltered["hq_loss"]
    q = quantiles.filter((pl.col("setting") == "filtering") & (pl.col("value") == strongest["value"])).sort("quantile")
    synth = summary.filter(pl.col("setting") == "synthetic").sort("value")["hq_loss"].to_numpy()
    r_min = f"r = {strongest['value']:.0%}"
    return [
        Claim("downstream_rises_as_r_falls",
              f"mean downstream accuracy at {r_min} exceeds r = 100% (z-score of the gain)",
              (a1 - a0) / se if se > 0 else float("nan"), ">=", 2.0, "filtering_results"),
        Claim("hq_loss_improves_less_than_downstream",
              f"relative HQ-loss improvement minus relative accuracy improvement, {r_min} vs 100%",
              rel_loss - rel_acc, "<", 0.0, "filtering_results"),
        Claim("top_quantile_hq_loss_improves",
              f"change of HQ loss on the top-scored HQ quantile, {r_min} vs 100% (nats/token)",
              q["change"][-1], "<", 0.0, "implicit_filtering"),
        Claim("bottom_quantile_hq_loss_does_not_improve",
              f"change of HQ loss on the bottom-scored HQ quantile, {r_min} vs 100% (nats/token)",
              q["change"][0], ">=", 0.0, "implicit_filtering"),
        Claim("permutation_hq_loss_falls_monotonically_in_q",
              "largest increase of HQ loss between consecutive qualities q (nats/token)",
              float(np.diff(synth).max()), "<", 0.0, "synthetic_results"),
    ]  # fmt: skip
