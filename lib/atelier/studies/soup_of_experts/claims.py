"""The study's claims, measured from the experiment tables (never asserted)."""

from __future__ import annotations

import numpy as np
import polars as pl

from atelier.report import Claim


def claims(heldout: pl.DataFrame, sweep: pl.DataFrame, targets: pl.DataFrame, cost: pl.DataFrame) -> list[Claim]:
    by_experts = sweep.sort("n_experts")["heldout_loss"].to_numpy()
    seconds = dict(zip(cost["how"], cost["seconds"]))
    return [
        Claim("soup_beats_generalist",
              "On held-out random h, the soup instantiated at h has a lower loss than the generalist of the same "
              "instantiated size (mean gap, nats/token)",
              float(heldout["gap"].mean()), ">", 0.0, "heldout"),
        Claim("more_experts_lower_loss",
              "Every increase in the number of experts lowers the mean held-out loss (largest change between "
              "consecutive expert counts, nats/token)",
              float(np.diff(by_experts).max()), "<", 0.0, "experts"),
        Claim("few_sample_target",
              "For a target known from a few samples, the soup instantiated at the kNN-histogram estimate of h beats "
              "the generalist on the target (mean gap, nats/token)",
              float((targets["generalist"] - targets["soup_estimated_h"]).mean()), ">", 0.0, "targets"),
        Claim("instantiation_is_cheap",
              "Instantiating a specialist from the soup is orders of magnitude cheaper than training one "
              "(training seconds / instantiation seconds)",
              seconds["train a specialist from scratch"] / seconds["instantiate the soup at h"], ">=", 100.0, "cost"),
    ]
