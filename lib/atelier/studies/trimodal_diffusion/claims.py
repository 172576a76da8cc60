"""The study's claims, measured from the experiments' tables (never asserted)."""

from __future__ import annotations

import polars as pl

from atelier.report import Claim


def claims(laws: pl.DataFrame, monotone: pl.DataFrame, spreads: pl.DataFrame, t2i_accuracy: float,
           margins: pl.DataFrame) -> list[Claim]:
    spread = dict(zip(spreads["rule"], spreads["spread"]))
    pooled = margins.filter(pl.col("modality") == "pooled").row(0, named=True)
    return [
        Claim("scaling_law_heldout_error",
              "L(N, D) fitted per modality without the largest model predicts its losses (max relative error "
              "over modalities and budgets)", laws["heldout_max_rel_error"].max(), "<=", 0.05, "scaling"),
        Claim("loss_falls_in_N_and_D",
              "every modality's loss falls with each step up in model size and in tokens (steps where it does "
              "not)", monotone["not_falling"].sum(), "<=", 0, "scaling"),
        Claim("sde_rule_collapses_batch_sizes",
              "spread of final loss across physical batch sizes with the SDE rule / without it",
              spread["SDE rule"] / spread["no rule"] if spread["no rule"] > 0 else float("nan"), "<=", 0.5,
              "batch_size"),
        Claim("text_to_image_accuracy",
              "text-to-image samples classified as the prompted digit (chance 0.1)", t2i_accuracy, ">=", 0.5,
              "gallery_images"),
        Claim("default_sampler_beats_random",
              "the default sampler's accuracy (mean of text-to-image and text-to-speech) minus random "
              "unmasking's at its steps and temperature on separate evaluation draws, less two paired "
              "standard errors", pooled["margin"] - 2 * pooled["se"], ">", 0.0, "sampler_grid"),
    ]
