"""Figures of the study (altair), each readable on its own: title, axis titles with units, legend."""

from __future__ import annotations

import altair as alt
import polars as pl

TASK_NAMES = {"facts_qa": "facts QA", "definitions": "definition matching", "well_formed": "well-formedness (minimal pairs)",
              "mean_accuracy": "mean of the tasks"}
SETTING_NAMES = {"filtering": "classifier filter (top r% of the pool)", "synthetic": "permutation control (quality q)"}


def pool_chart(pool_summary: pl.DataFrame) -> alt.Chart:
    """Characters per domain in the pool, HQ train and HQ held-out sets, split by variant."""
    return alt.Chart(pool_summary).mark_bar().encode(
        y=alt.Y("domain:N", title=None),
        x=alt.X("characters:Q", title="characters"),
        color=alt.Color("variant:N", title="document variant"),
        row=alt.Row("set:N", title=None, sort=["pool", "HQ train", "HQ held-out"]),
        tooltip=["set", "domain", "variant", "documents", "characters"],
    ).properties(width=360, height=110, title="The pool (a crawl of real domains, half degraded) and the HQ set")


def score_chart(scores: pl.DataFrame) -> alt.Chart:
    """Densities of the classifier score (log-odds of HQ) of pool, HQ train and HQ held-out documents."""
    return alt.Chart(scores).transform_density(
        "score", groupby=["set"], as_=["score", "density"], steps=120,
    ).mark_line().encode(
        x=alt.X("score:Q", title="classifier score (log-odds that a document is HQ)"),
        y=alt.Y("density:Q", title="density"),
        color=alt.Color("set:N", title="documents", sort=["pool", "HQ train", "HQ held-out"]),
    ).properties(width=420, height=220, title="Quality scores: pool vs HQ train vs HQ held-out")


def composition_chart(composition: pl.DataFrame) -> alt.Chart:
    """What the filter keeps: share of kept characters per domain and per variant, for each r."""
    return alt.Chart(composition.with_columns(pct=pl.col("r") * 100)).mark_bar().encode(
        x=alt.X("pct:O", title="kept fraction r (% of pool documents)", sort="descending"),
        y=alt.Y("share:Q", title="share of kept characters", axis=alt.Axis(format="%")),
        color=alt.Color("group:N", title="domain / variant"),
        column=alt.Column("by:N", title=None),
    ).properties(width=200, height=220, title="What the classifier filter keeps")


def _long_accuracy(summary: pl.DataFrame) -> pl.DataFrame:
    columns = [c for c in TASK_NAMES if c in summary.columns]
    return summary.unpivot(index=["setting", "value"], on=columns, variable_name="task", value_name="accuracy").with_columns(
        pl.col("task").replace(TASK_NAMES))


def results_chart(summary: pl.DataFrame, setting: str, chance: float) -> alt.HConcatChart:
    """Downstream accuracy and HQ held-out loss against r (filter) or q (permutation control)."""
    x_title = {"filtering": "kept fraction r (% of pool documents)", "synthetic": "quality q (% of tokens in place)"}[setting]
    data = summary.filter(pl.col("setting") == setting).with_columns(pct=pl.col("value") * 100)
    x = alt.X("pct:Q", title=x_title, scale=alt.Scale(reverse=setting == "filtering"))
    acc = alt.Chart(_long_accuracy(data).with_columns(pct=pl.col("value") * 100)).mark_line(point=True).encode(
        x=x, y=alt.Y("accuracy:Q", title="accuracy", axis=alt.Axis(format="%")), color=alt.Color("task:N", title="task"))
    rule = alt.Chart(pl.DataFrame({"chance": [chance]})).mark_rule(strokeDash=[4, 4], color="gray").encode(y="chance:Q")
    loss = alt.Chart(data).mark_line(point=True, color="black").encode(
        x=x, y=alt.Y("hq_loss:Q", title="HQ held-out loss (nats/token)", scale=alt.Scale(zero=False)))
    return alt.hconcat(
        (acc + rule).properties(width=260, height=220, title="Downstream accuracy (dashed: chance)"),
        loss.properties(width=260, height=220, title="Loss on held-out HQ documents"),
    ).properties(title=SETTING_NAMES[setting])


def quantile_chart(quantiles: pl.DataFrame, setting: str) -> alt.Chart:
    """Change of HQ held-out loss (vs r = 100% or q = 100%) per classifier-score quantile."""
    x_title = {"filtering": "kept fraction r (% of pool documents)", "synthetic": "quality q (% of tokens in place)"}[setting]
    data = quantiles.filter(pl.col("setting") == setting).with_columns(pct=pl.col("value") * 100)
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("pct:Q", title=x_title, scale=alt.Scale(reverse=setting == "filtering")),
        y=alt.Y("change:Q", title="change of HQ loss vs the reference run (nats/token)"),
        color=alt.Color("quantile:O", title="HQ score quantile (0 = lowest)", scale=alt.Scale(scheme="viridis")),
    ).properties(width=360, height=240, title=f"Implicit filtering of the HQ set: {SETTING_NAMES[setting]}")


def trends_chart(summary: pl.DataFrame) -> alt.Chart:
    """Mean downstream accuracy against HQ held-out loss, one trajectory per setting."""
    data = summary.with_columns(setting=pl.col("setting").replace(SETTING_NAMES),
                                label=pl.format("{}%", (pl.col("value") * 100).round(0).cast(pl.Int64)))
    base = alt.Chart(data).encode(
        x=alt.X("hq_loss:Q", title="HQ held-out loss (nats/token)", scale=alt.Scale(zero=False)),
        y=alt.Y("mean_accuracy:Q", title="mean downstream accuracy", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
        color=alt.Color("setting:N", title=None, legend=alt.Legend(orient="bottom", labelLimit=400)),
        order="value:Q",
    )
    return (base.mark_line(point=True) + base.mark_text(dx=14, dy=-8, fontSize=10).encode(text="label:N")).properties(
        width=420, height=280, title="Two notions of quality: downstream accuracy vs HQ loss")


def curves_chart(curves: pl.DataFrame) -> alt.Chart:
    """Training loss of every run (on its own training data)."""
    data = curves.with_columns(run=pl.col("setting") + " " + pl.format("{}%", (pl.col("value") * 100).round(0)))
    return alt.Chart(data).mark_line().encode(
        x=alt.X("step:Q", title="optimizer step"), y=alt.Y("loss:Q", title="training loss (nats/token)"),
        color=alt.Color("run:N", title="run"),
    ).properties(width=420, height=240, title="Training curves (equal compute: same steps and batch)")
