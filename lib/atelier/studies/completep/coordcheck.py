"""Coordinate check: activation RMS per layer over the first AdamW steps, across widths and
depths, for SP, muP, CompleteP(alpha=0.5) and CompleteP(alpha=1) (atelier.nn.coord_check).

Under a parameterisation that transfers, each layer's RMS after a few steps is the same at
every size; under SP the updates grow with width and so do the activations. Widths are checked
at the base depth and depths at the base width.
"""

from __future__ import annotations

import polars as pl

from atelier.nn import coord_check
from atelier.studies.completep.config import Config
from atelier.studies.completep.models import build_model
from atelier.train import NextTokenLoss


def parameterisations(cfg: Config) -> list[tuple[str, str, float]]:
    """(label, kind, alpha) of every parameterisation the coordinate check compares."""
    return [("SP", "sp", 1.0), ("muP", "mup", 1.0)] + [
        (f"CompleteP(α={a:g})", "completep", a) for a in cfg.coord_alphas]


def run_coord_check(cfg: Config, batch: dict, vocab_size: int, seed: int) -> pl.DataFrame:
    """RMS per (param, axis, width, depth, layer, step) on one fixed batch, at base LR 2^coord_log2_lr."""
    frames = []
    for label, kind, alpha in parameterisations(cfg):
        def make(width, depth, kind=kind, alpha=alpha):
            return build_model(cfg, vocab_size, kind, width, depth, seed, alpha=alpha)

        for axis, widths, depths in (("width", cfg.coord_widths, (cfg.base_depth,)),
                                     ("depth", (cfg.base_width,), cfg.coord_depths)):
            df = coord_check(make, NextTokenLoss(), batch, widths, depths, steps=cfg.coord_steps,
                             lr=2.0 ** cfg.coord_log2_lr, eps=cfg.eps, betas=(cfg.beta1, cfg.beta2), seed=seed)
            frames.append(df.with_columns(pl.lit(label).alias("param"), pl.lit(axis).alias("axis")))
    return pl.concat(frames).with_columns(
        # the residual stream after the last block, comparable across depths
        pl.when(pl.col("layer") == pl.format("block{}", pl.col("depth") - 1)).then(pl.lit("last block"))
        .otherwise(pl.col("layer")).alias("layer"))


def spread(coords: pl.DataFrame, axis: str) -> pl.DataFrame:
    """How much each layer's RMS varies over the sizes of ``axis``: largest / smallest, worst layer per param.

    ``max_ratio`` compares each size's RMS averaged over the steps after initialisation: right after a
    loss spike the activations oscillate from step to step, and the check is about their scale, not
    their phase (microsoft/mup averages over seeds for the same reason). ``max_ratio_last`` compares
    the last step alone. Only layers present at every size count; across depth, only those at the same
    place in every model (embedding, first block, last block, logits): block i > 0 is the last block of a
    shallow model but an early one of a deep model.
    """
    trained = coords.filter((pl.col("axis") == axis) & (pl.col("step") > 0))
    if axis == "depth":
        trained = trained.filter(~pl.col("layer").str.contains(r"^block[1-9]"))
    n_sizes = trained[axis].n_unique()
    per_size = trained.group_by("param", "layer", axis).agg(
        pl.col("rms").mean().alias("mean"), pl.col("rms").sort_by("step").last().alias("last"))
    per_layer = per_size.group_by("param", "layer").agg(
        (pl.col("mean").max() / pl.col("mean").min()).alias("ratio"),
        (pl.col("last").max() / pl.col("last").min()).alias("ratio_last"), pl.len().alias("n"),
    ).filter(pl.col("n") == n_sizes)
    return per_layer.group_by("param").agg(
        pl.col("ratio").max().alias("max_ratio"), pl.col("layer").sort_by("ratio").last().alias("worst_layer"),
        pl.col("ratio_last").max().alias("max_ratio_last"),
    ).sort("param")
