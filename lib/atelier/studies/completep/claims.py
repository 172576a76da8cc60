"""The study's claims, measured from the experiments' tables."""

from __future__ import annotations

import math

import polars as pl

from atelier.report import Claim


def drift_of(drifts: pl.DataFrame, param: str) -> float:
    """Optimal-LR drift (log2) of one parameterisation; nan unless every optimum was bracketed."""
    row = drifts.filter(pl.col("param") == param)
    if row.height != 1 or not row["all_bracketed"][0]:
        return math.nan
    return float(row["drift_log2"][0])


def claims(width_drift: pl.DataFrame, depth_drift: pl.DataFrame, width_spread: pl.DataFrame,
           global_loss: float, per_module_loss: float, speedup: float) -> list[Claim]:
    completep_spread = width_spread.filter(pl.col("param").str.starts_with("CompleteP"))["max_ratio"].max()
    return [
        Claim("completep_lr_transfer_width", "CompleteP's optimal base LR moves at most 0.5 (log2) across the "
              "width range (max − min of the parabola optima).", drift_of(width_drift, "CompleteP"), "<=", 0.5,
              figure="lr_drift_width"),
        Claim("completep_lr_transfer_depth", "CompleteP's optimal base LR moves at most 0.5 (log2) across the "
              "depth range.", drift_of(depth_drift, "CompleteP"), "<=", 0.5, figure="lr_drift_depth"),
        Claim("sp_lr_shifts_with_width", "SP's optimal LR moves by at least 1 (log2) across the width range.",
              drift_of(width_drift, "SP"), ">=", 1.0, figure="lr_drift_width"),
        Claim("completep_coord_check_flat", "CompleteP's coordinate check is flat: for every layer (worst layer, "
              "both α), the largest / smallest over widths of the RMS averaged over the training steps is at most 2.",
              completep_spread, "<=", 2.0, figure="coord_check_width"),
        Claim("per_module_beats_global", "Per-module HPs found on the proxy and transferred to the larger "
              "model end at a lower validation loss than its best global-only HPs, at equal steps "
              "(global − per-module, nats/token).", global_loss - per_module_loss, ">", 0.0,
              figure="per_module"),
        Claim("per_module_speedup", "Speed-up of the transferred per-module HPs: steps of the global-only run / "
              "steps the per-module run needs to reach its final loss.", speedup, ">", 1.0, figure="per_module"),
    ]
