"""Altair charts of study 09, one per notebook section; every loss is in nats per token."""

from __future__ import annotations

import altair as alt
import polars as pl

MODEL_COLORS = alt.Scale(
    domain=["soup (instantiated at h)", "generalist (uniform h)", "specialist from scratch", "generalist finetuned"],
    range=["#d62728", "#1f77b4", "#2ca02c", "#9467bd"])  # same in every chart


def meta_chart(samples: pl.DataFrame) -> alt.Chart:
    """Heat map of draws from the sparse Dirichlet meta-distribution."""
    return alt.Chart(samples, title="Draws h from the meta-distribution (sparse Dirichlet)").mark_rect().encode(
        x=alt.X("draw:O", title="draw"), y=alt.Y("domain:N", title="domain"),
        color=alt.Color("weight:Q", title="weight h_d", scale=alt.Scale(scheme="blues", domain=[0, 1])),
        tooltip=["draw", "domain", alt.Tooltip("weight:Q", format=".2f")]).properties(width=420, height=150)


def training_chart(curves: pl.DataFrame, window: int = 5) -> alt.Chart:
    """Training loss (rolling mean over `window` logged steps) of soup and generalist."""
    smooth = curves.sort("model", "step").with_columns(
        pl.col("loss").rolling_mean(window, min_samples=1).over("model").alias("loss"))
    models = ["soup (h ~ meta-distribution)", "generalist (uniform h)"]
    return alt.Chart(smooth, title="Training loss: soup on random h, generalist on the uniform mixture").mark_line(
    ).encode(
        x=alt.X("step:Q", title="optimizer step", scale=alt.Scale(nice=False), axis=alt.Axis(tickCount=5)),
        y=alt.Y("loss:Q", title="training loss (nats/token)", scale=alt.Scale(zero=False)),
        color=alt.Color("model:N", title="model", scale=alt.Scale(domain=models, range=["#d62728", "#1f77b4"])),
    ).properties(width=420, height=240)


def heldout_chart(heldout: pl.DataFrame) -> alt.LayerChart:
    """Soup vs generalist loss on each held-out h; points below the diagonal favour the soup."""
    lo = float(min(heldout["soup"].min(), heldout["generalist"].min())) - 0.05
    hi = float(max(heldout["soup"].max(), heldout["generalist"].max())) + 0.05
    scale = alt.Scale(domain=[lo, hi], zero=False)
    diagonal = alt.Chart(pl.DataFrame({"generalist": [lo, hi], "soup": [lo, hi]})).mark_line(
        color="grey", strokeDash=[4, 4]).encode(x=alt.X("generalist:Q", scale=scale), y=alt.Y("soup:Q", scale=scale))
    points = alt.Chart(heldout.with_columns(pl.lit("held-out h").alias("kind"))).mark_point(filled=True, size=60).encode(
        x=alt.X("generalist:Q", title="generalist loss on h (nats/token)", scale=scale),
        y=alt.Y("soup:Q", title="soup loss on h (nats/token)", scale=scale),
        color=alt.Color("kind:N", title="points", scale=alt.Scale(range=["#d62728"])),
        tooltip=["h", alt.Tooltip("soup:Q", format=".3f"), alt.Tooltip("generalist:Q", format=".3f")])
    return (diagonal + points).properties(title="Held-out domain weights: soup vs generalist (below the diagonal: "
                                                "soup better)", width=320, height=320)


def compute_chart(curves: pl.DataFrame, heldout: pl.DataFrame) -> alt.FacetChart:
    """Loss on h vs training tokens spent on h: specialists and finetuning (curves) against the
    soup and the generalist (no extra training: horizontal lines), one panel per h."""
    shown = heldout.filter(pl.col("h_index").is_in(curves["h_index"].unique().to_list()))
    rules = pl.concat([
        shown.select("h_index", "h", pl.col("soup").alias("loss"),
                     pl.lit("soup (instantiated at h)").alias("method")),
        shown.select("h_index", "h", pl.col("generalist").alias("loss"),
                     pl.lit("generalist (uniform h)").alias("method")),
    ])
    color = alt.Color("method:N", title="model", scale=MODEL_COLORS)
    lines = alt.Chart().mark_line(point=True).encode(
        x=alt.X("tokens:Q", title="training tokens spent on this h"),
        y=alt.Y("loss:Q", title="loss on h (nats/token)", scale=alt.Scale(zero=False)), color=color)
    flat = alt.Chart().mark_rule(strokeDash=[6, 3], size=2).encode(y="loss:Q", color=color)
    data = pl.concat([curves.select("h_index", "h", "method", "tokens", "loss"),
                      rules.with_columns(pl.lit(None, dtype=pl.Int64).alias("tokens"))
                      .select("h_index", "h", "method", "tokens", "loss")])
    return alt.layer(lines.transform_filter("isValid(datum.tokens)"),
                     flat.transform_filter("!isValid(datum.tokens)"), data=data).properties(
        width=240, height=200).facet(facet=alt.Facet("h:N", title="held-out domain weights h"), columns=3).properties(
        title="Loss vs compute on a few held-out h")


def sweep_chart(sweep: pl.DataFrame, generalist: float) -> alt.LayerChart:
    """Mean held-out loss (the same held-out h for every point) against the number of experts."""
    data = sweep.with_columns(pl.lit("soup (instantiated at h)").alias("model"))
    color = alt.Color("model:N", title="model", scale=alt.Scale(
        domain=["soup (instantiated at h)", "generalist (uniform h)"], range=["#d62728", "#1f77b4"]))
    line = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("n_experts:Q", title="number of experts n", scale=alt.Scale(type="log", base=2),
                axis=alt.Axis(values=sweep["n_experts"].to_list())),
        y=alt.Y("heldout_loss:Q", title="mean loss on held-out h (nats/token)", scale=alt.Scale(zero=False)),
        color=color, tooltip=["n_experts", "stored_params", alt.Tooltip("heldout_loss:Q", format=".4f")])
    rule = alt.Chart(pl.DataFrame({"loss": [generalist], "model": ["generalist (uniform h)"]})).mark_rule(
        strokeDash=[6, 3], size=2).encode(y="loss:Q", color=color)
    return (line + rule).properties(title="More experts, lower held-out loss", width=360, height=260)


def targets_chart(targets: pl.DataFrame) -> alt.Chart:
    """Loss on each few-sample target: generalist, soup at the estimated h, soup at the true h."""
    long = targets.unpivot(index=["target", "h_true", "tv_error"], on=["generalist", "soup_estimated_h", "soup_true_h"],
                           variable_name="model", value_name="loss").with_columns(pl.col("model").replace({
                               "generalist": "generalist (uniform h)", "soup_estimated_h": "soup at estimated h",
                               "soup_true_h": "soup at true h (oracle)"}))
    models = ["generalist (uniform h)", "soup at estimated h", "soup at true h (oracle)"]
    return alt.Chart(long, title="Few-sample targets: loss on the target mixture").mark_point(filled=True, size=70).encode(
        x=alt.X("target:O", title="target (a random mixture h*)"),
        y=alt.Y("loss:Q", title="loss on h* (nats/token)", scale=alt.Scale(zero=False)),
        color=alt.Color("model:N", title="model", scale=alt.Scale(domain=models, range=["#1f77b4", "#d62728", "#ff9896"])),
        shape=alt.Shape("model:N", title="model", scale=alt.Scale(domain=models, range=["circle", "square", "triangle"])),
        tooltip=["h_true", alt.Tooltip("tv_error:Q", format=".2f"), alt.Tooltip("loss:Q", format=".3f")],
    ).properties(width=380, height=260)


def cost_chart(cost: pl.DataFrame) -> alt.Chart:
    """Seconds to obtain one specialist, log scale."""
    return alt.Chart(cost, title="Cost of one specialist model").mark_bar().encode(
        y=alt.Y("how:N", title=None, sort=None),
        x=alt.X("seconds:Q", title="wall-clock seconds (log scale)", scale=alt.Scale(type="log")),
        color=alt.Color("how:N", title="how", scale=alt.Scale(range=["#d62728", "#2ca02c"])),
        tooltip=["how", alt.Tooltip("seconds:Q", format=".3g")]).properties(width=380, height=90)
