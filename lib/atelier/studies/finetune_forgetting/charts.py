"""The study's figures: altair charts built from the experiment tables, each readable alone."""

from __future__ import annotations

import altair as alt
import polars as pl

from atelier.report import tight_log_scale

SIZE = alt.Color("params:O", title="parameters N", scale=alt.Scale(scheme="viridis"))


def pretraining_chart(curves: pl.DataFrame) -> alt.Chart:
    return alt.Chart(curves).mark_line(point=True).encode(
        x=alt.X("step:Q", title="pretraining step"),
        y=alt.Y("val_loss:Q", title="pretraining validation loss (nats/token)", scale=alt.Scale(zero=False)),
        color=SIZE,
    ).properties(title="Pretraining the model sizes on the general mixture", width=380, height=240)


def trajectory_chart(trajectories: pl.DataFrame, value: str, title: str, y_title: str) -> alt.FacetChart:
    """``value`` against finetuning step without injection, one panel per target and set size."""
    data = trajectories.filter((pl.col("p") == 0) & (pl.col("step") > 0))
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("step:Q", title="finetuning step", scale=alt.Scale(type="log")),
        y=alt.Y(f"{value}:Q", title=y_title, scale=alt.Scale(zero=False)),
        color=SIZE,
    ).properties(width=190, height=150).facet(
        row=alt.Row("domain:N", title="target domain"),
        column=alt.Column("target_tokens:O", title="unique target tokens D"),
    ).resolve_scale(y="independent").properties(title=title)


def injection_chart(trajectories: pl.DataFrame, width: int) -> alt.FacetChart:
    """Forgetting along finetuning of one model size, one line per injected fraction p."""
    data = trajectories.filter((pl.col("width") == width) & (pl.col("step") > 0)).with_columns(
        p_percent=(pl.col("p") * 100).round(2))
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("step:Q", title="finetuning step", scale=alt.Scale(type="log")),
        y=alt.Y("forgetting:Q", title="forgetting L_pt - L_pt(before) (nats)"),
        color=alt.Color("p_percent:O", title="injected pretraining data p (%)", scale=alt.Scale(scheme="plasma"),
                        legend=alt.Legend(titleLimit=400)),
    ).properties(width=190, height=150).facet(
        row=alt.Row("domain:N", title="target domain"),
        column=alt.Column("target_tokens:O", title="unique target tokens D"),
    ).resolve_scale(y="independent").properties(
        title=f"Forgetting along finetuning per injected fraction (width {width})")


def knee_chart(knee: pl.DataFrame) -> alt.Chart:
    """Share of the p = 0 forgetting removed, and the change of target loss, against p."""
    data = knee.with_columns(p_percent=(pl.col("p") * 100).round(2)).unpivot(
        index="p_percent", on=["removed_end", "removed_best", "target_change"], variable_name="quantity",
        value_name="value").with_columns(pl.col("quantity").replace({
            "removed_end": "forgetting removed (end of finetuning)",
            "removed_best": "forgetting removed (early-stopped)",
            "target_change": "relative change of early-stopped target loss"}))
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("p_percent:O", title="injected pretraining data p (%)"),
        y=alt.Y("value:Q", title="fraction relative to p = 0", axis=alt.Axis(format="%")),
        color=alt.Color("quantity:N", title="quantity", legend=alt.Legend(labelLimit=400)),
    ).properties(title="The injection knee: forgetting removed vs target cost", width=380, height=240)


def fit_chart(predictions: pl.DataFrame) -> alt.FacetChart:
    """Predicted against measured values of every law; the diagonal is a perfect fit."""
    base = alt.Chart(predictions).encode(
        x=alt.X("measured:Q", title="measured (nats)", scale=tight_log_scale()),
    )
    points = base.mark_point(filled=True, size=40).encode(
        y=alt.Y("predicted:Q", title="predicted by the fitted law (nats)", scale=tight_log_scale()),
        color=alt.Color("split:N", title="points"), shape=alt.Shape("domain:N", title="target domain"))
    diagonal = base.mark_line(color="gray", strokeDash=[4, 4]).encode(y="measured:Q")  # y = x
    return alt.layer(diagonal, points).properties(width=220, height=220).facet(
        column=alt.Column("law:N", title="law")).resolve_scale(x="independent", y="independent").properties(
        title="Fitted laws against measurements (held out: the largest model)")


def early_stop_chart(points: pl.DataFrame) -> alt.FacetChart:
    """The forgetting law's points: forgetting at the continuous early stop of the seed-mean curves
    against N (bars: the seeds' standard deviation of their own early-stopped forgetting, either
    side), one line per injected fraction p."""
    data = points.with_columns(p_percent=(pl.col("p") * 100).round(2),
                               low=pl.col("forgetting_stop") - pl.col("forgetting_stop_sd").fill_null(0.0),
                               high=pl.col("forgetting_stop") + pl.col("forgetting_stop_sd").fill_null(0.0))
    color = alt.Color("p_percent:O", title="injected pretraining data p (%)", scale=alt.Scale(scheme="plasma"),
                      legend=alt.Legend(titleLimit=400))
    x = alt.X("params:Q", title="non-embedding parameters N", scale=tight_log_scale())
    y_title = "forgetting at the early stop (nats)"
    line = alt.Chart().mark_line(point=True).encode(x=x, y=alt.Y("forgetting_stop:Q", title=y_title), color=color)
    bars = alt.Chart().mark_errorbar().encode(x=x, y=alt.Y("low:Q", title=y_title), y2="high:Q", color=color)
    return alt.layer(bars, line, data=data).properties(width=190, height=150).facet(
        row=alt.Row("domain:N", title="target domain"),
        column=alt.Column("target_tokens:O", title="unique target tokens D"),
    ).resolve_scale(y="independent").properties(
        title="Forgetting at the early stop (continuous time, losses averaged over pretraining seeds)")
