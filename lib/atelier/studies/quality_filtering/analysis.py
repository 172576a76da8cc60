"""Tables of the study: the pool, the scores, what each filter keeps, and the runs' results.

HQ losses are token-weighted means (total nats / total tokens) over held-out HQ documents,
overall or within one bin of classifier score (quantile 0 = the lowest-scored documents).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from atelier.studies.quality_filtering.classifier import keep_top
from atelier.studies.quality_filtering.experiments import Runs, Setup

LOSS = (pl.col("nll").sum() / pl.col("tokens").sum()).alias("hq_loss")


def pool_summary(setup: Setup) -> pl.DataFrame:
    """Documents and characters per set, domain and variant."""
    chars = pl.col("text").str.len_chars()
    parts = [
        setup.pool.group_by("domain", "variant").agg(documents=pl.len(), characters=chars.sum()).with_columns(set=pl.lit("pool")),
        *(frame.group_by("domain").agg(documents=pl.len(), characters=chars.sum())
          .with_columns(variant=pl.lit("clean"), set=pl.lit(name))
          for name, frame in (("HQ train", setup.hq_train), ("HQ held-out", setup.hq_eval))),
    ]  # fmt: skip
    return pl.concat(parts, how="diagonal").select("set", "domain", "variant", "documents", "characters").sort(
        "set", "domain", "variant")


def score_table(setup: Setup) -> pl.DataFrame:
    """Classifier score of every document: set (pool / HQ train / HQ held-out), domain, variant, score."""
    return pl.concat([
        setup.pool.select(set=pl.lit("pool"), domain="domain", variant="variant", score="score"),
        setup.hq_train.select(set=pl.lit("HQ train"), domain="domain", variant=pl.lit("clean"), score="score"),
        setup.hq_eval.select(set=pl.lit("HQ held-out"), domain="domain", variant=pl.lit("clean"), score="score"),
    ])  # fmt: skip


def kept_composition(setup: Setup, keep_fractions) -> pl.DataFrame:
    """Share of the kept characters per domain and per variant, for each keep fraction r."""
    chars = setup.pool["text"].str.len_chars()
    rows = []
    for r in keep_fractions:
        kept = setup.pool.with_columns(chars=chars).filter(pl.Series(keep_top(setup.pool["score"].to_numpy(), r)))
        for column in ("domain", "variant"):
            share = kept.group_by(column).agg(share=pl.col("chars").sum() / kept["chars"].sum())
            rows.append(share.select(r=pl.lit(float(r)), by=pl.lit(column), group=column, share="share"))
    return pl.concat(rows).sort("r", "by", "group", descending=[True, False, False])


def summary(runs: Runs) -> pl.DataFrame:
    """Per run: accuracy of each task, their mean, number of questions, HQ held-out loss."""
    per_task = runs.accuracy.group_by("setting", "value", "task").agg(pl.col("accuracy").mean())
    acc = per_task.pivot(on="task", index=["setting", "value"], values="accuracy")
    tasks = sorted(per_task["task"].unique())
    acc = acc.with_columns(mean_accuracy=pl.mean_horizontal(tasks))
    loss = runs.doc_losses.group_by("setting", "value").agg(LOSS)
    return acc.join(loss, on=["setting", "value"]).sort("setting", "value")


def quantile_losses(runs: Runs) -> pl.DataFrame:
    """HQ held-out loss per run and classifier-score quantile, and its change from the run
    with the largest value (r = 1, or q = 1): negative = better than that reference."""
    loss = runs.doc_losses.group_by("setting", "value", "quantile").agg(LOSS)
    reference = loss.filter(pl.col("value") == pl.col("value").max().over("setting")).select(
        "setting", "quantile", reference=pl.col("hq_loss"))
    return loss.join(reference, on=["setting", "quantile"]).with_columns(
        change=pl.col("hq_loss") - pl.col("reference")).drop("reference").sort("setting", "value", "quantile")


def accuracy_stderr(accuracy: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on n questions."""
    return float(np.sqrt(accuracy * (1 - accuracy) / n))
