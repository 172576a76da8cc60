"""Figures of the study, each readable on its own (title, axis titles with units, legend)."""

from __future__ import annotations

import altair as alt
import polars as pl

SIZE_TITLE = {"width": "width (d_model)", "depth": "depth (blocks)"}


def coord_chart(coords: pl.DataFrame, axis: str) -> alt.FacetChart:
    """Activation RMS vs step, one panel per (parameterisation, layer), one line per size."""
    layers = ["embedding", "block0.attention", "block0.mlp", "last block", "logits"]
    data = coords.filter((pl.col("axis") == axis) & pl.col("layer").is_in(layers))
    fixed = "depth" if axis == "width" else "width"
    return alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=12)).encode(
        x=alt.X("step:Q", title="AdamW step"),
        y=alt.Y("rms:Q", title="activation RMS", scale=alt.Scale(type="log")),
        color=alt.Color(f"{axis}:O", title=SIZE_TITLE[axis], scale=alt.Scale(scheme="viridis")),
    ).properties(width=130, height=95).facet(
        row=alt.Row("param:N", title=None, sort=data["param"].unique(maintain_order=True).to_list()),
        column=alt.Column("layer:N", title=None, sort=layers),
    ).resolve_scale(y="independent").properties(
        title=f"Coordinate check across {axis} ({fixed} {data[fixed][0]}): RMS per layer over the first steps")


def sweep_chart(sweep: pl.DataFrame, optimal: pl.DataFrame, axis: str) -> alt.HConcatChart:
    """Final validation loss vs base LR, one panel per parameterisation, the fitted optima as diamonds."""
    finite = sweep["loss"].drop_nans()
    best = finite.min()
    domain = [best - 0.02, min(best + 1.2, finite.max() + 0.02)]
    panels = []
    for param in sweep["param"].unique(maintain_order=True):
        curves = sweep.filter(pl.col("param") == param)
        color = alt.Color(f"{axis}:O", title=SIZE_TITLE[axis], scale=alt.Scale(scheme="viridis"))
        lines = alt.Chart(curves).mark_line(point=True, clip=True).encode(
            x=alt.X("log2_lr:Q", title="base learning rate (log2)"),
            y=alt.Y("loss:Q", title="final validation loss (nats/token)", scale=alt.Scale(domain=domain)),
            color=color)
        optima = alt.Chart(optimal.filter(pl.col("param") == param)).mark_point(
            shape="diamond", size=140, filled=True, stroke="black", clip=True).encode(
            x="opt_log2_lr:Q", y="opt_loss:Q", color=color)
        panels.append((lines + optima).properties(title=param, width=260, height=220))
    return alt.hconcat(*panels).properties(
        title=f"Loss vs learning rate across {axis}; diamonds: parabola optimum in log2 LR")


def drift_chart(optimal: pl.DataFrame, axis: str) -> alt.Chart | alt.LayerChart:
    """Fitted optimal base LR vs model size, one line per parameterisation; with columns opt_lo / opt_hi,
    their bootstrap interval over initialisations as error bars."""
    x = alt.X(f"{axis}:Q", title=SIZE_TITLE[axis], scale=alt.Scale(type="log", base=2),
              axis=alt.Axis(values=sorted(optimal[axis].unique().to_list())))
    color = alt.Color("param:N", title="parameterisation")
    lines = alt.Chart(optimal).mark_line(point=True).encode(
        x=x, y=alt.Y("opt_log2_lr:Q", title="optimal base learning rate (log2)", scale=alt.Scale(zero=False)),
        color=color)
    title = f"Optimal learning rate vs {axis}"
    if "opt_lo" not in optimal.columns:
        return lines.properties(title=title, width=300, height=220)
    bars = alt.Chart(optimal).mark_errorbar(ticks=True).encode(x=x, y="opt_lo:Q", y2="opt_hi:Q", color=color)
    return (lines + bars).properties(title=f"{title} (bars: 90% bootstrap over initialisations)",
                                     width=300, height=220)


def batch_chart(finals: pl.DataFrame, curves: pl.DataFrame) -> alt.HConcatChart:
    """Loss vs offset from the SDE-predicted LR per batch size, and loss vs tokens at the prediction."""
    color = alt.Color("batch_size:O", title="batch size (sequences)", scale=alt.Scale(scheme="viridis"))
    left = alt.Chart(finals).mark_line(point=True).encode(
        x=alt.X("offset:Q", title="log2 LR − log2 SDE-predicted LR"),
        y=alt.Y("loss:Q", title="final validation loss (nats/token)", scale=alt.Scale(zero=False)),
        color=color).properties(title="LR around the SDE prediction", width=260, height=220)
    right = alt.Chart(curves).mark_line().encode(
        x=alt.X("tokens:Q", title="training tokens"),
        y=alt.Y("loss:Q", title="training loss (nats/token)", scale=alt.Scale(zero=False)),
        color=color).properties(title="Loss vs tokens at the SDE-predicted LR", width=260, height=220)
    return alt.hconcat(left, right).properties(title="Batch-size transfer by the Adam SDE rule")


def duration_chart(finals: pl.DataFrame, curves: pl.DataFrame) -> alt.HConcatChart:
    """Loss vs AdamW timescale per duration, and loss vs tokens at the middle timescale."""
    color = alt.Color("steps:O", title="training steps", scale=alt.Scale(scheme="viridis"))
    left = alt.Chart(finals).mark_line(point=True).encode(
        x=alt.X("tau:Q", title="AdamW timescale τ = B/(η·λ·D) (epochs)", scale=alt.Scale(type="log", base=2)),
        y=alt.Y("loss:Q", title="final validation loss (nats/token)", scale=alt.Scale(zero=False)),
        color=color).properties(title="Weight decay set by a fixed timescale", width=260, height=220)
    right = alt.Chart(curves.rename({"steps_total": "steps", "step": "step_"})).mark_line().encode(
        x=alt.X("tokens:Q", title="training tokens"),
        y=alt.Y("loss:Q", title="training loss (nats/token)", scale=alt.Scale(zero=False)),
        color=color).properties(title="Loss vs tokens (middle τ)", width=260, height=220)
    return alt.hconcat(left, right).properties(title="Duration transfer with a fixed AdamW timescale")


def search_chart(history: pl.DataFrame, curves: pl.DataFrame) -> alt.HConcatChart:
    """Proxy loss of every search trial with the best so far; validation loss vs step on the target."""
    hist = history.select("trial", "loss").with_columns(pl.col("loss").cum_min().alias("best"))
    y = alt.Y("loss:Q", title="proxy validation loss (nats/token)", scale=alt.Scale(zero=False))
    trials = alt.Chart(hist).mark_point(color="#999999").encode(
        x=alt.X("trial:Q", title="search trial (0 = global-only)"), y=y)
    best = alt.Chart(hist).mark_line(color="#0072B2").encode(x="trial:Q", y="best:Q")
    left = (trials + best).properties(title="Search on the proxy (grey: trials, line: best so far)",
                                      width=260, height=220)
    right = alt.Chart(curves).mark_line(point=True).encode(
        x=alt.X("step:Q", title="optimizer step"),
        y=alt.Y("val_loss:Q", title="validation loss (nats/token)", scale=alt.Scale(zero=False)),
        color=alt.Color("hparams:N", title="hyperparameters")).properties(
        title="Transferred to the larger model", width=260, height=220)
    return alt.hconcat(left, right).properties(title="Per-module hyperparameters vs global-only")
