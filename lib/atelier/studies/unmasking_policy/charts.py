"""The study's figures (altair), each readable on its own: title, axis titles with units, legend."""

from __future__ import annotations

import altair as alt
import polars as pl

from atelier.studies.unmasking_policy import fronts

METHOD_ORDER = ["policy", "policy (trained here)", "threshold", "factor", "topk", "random"]


def dllm_curves(curves: pl.DataFrame, tasks) -> alt.Chart:
    return alt.Chart(curves).mark_line().encode(
        x=alt.X("step:Q", title="optimizer step"),
        y=alt.Y("loss:Q", title="masked-diffusion NELBO (nats per buffer token)", scale=alt.Scale(type="log")),
        color=alt.Color("model:N", title="dLLM"),
    ).properties(title=f"dLLM training on {', '.join(tasks)}", width=360, height=220)


def order_chart(table: pl.DataFrame) -> alt.Chart:
    return alt.Chart(table).mark_bar().encode(
        x=alt.X("decoding:N", title=None, axis=alt.Axis(labelAngle=-30)),
        y=alt.Y("accuracy:Q", title="exact-match accuracy", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("decoding:N", title="unmasking"),
        column=alt.Column("task:N", title="task"),
        row=alt.Row("model:N", title="dLLM"),
    ).properties(title="Accuracy depends on the unmasking order", width=120, height=120)


def grpo_curves(curve: pl.DataFrame) -> alt.Chart:
    long = curve.unpivot(index="iteration", on=["reward", "accuracy", "nfe"], variable_name="metric")
    names = {"reward": "mean reward R", "accuracy": "accuracy (rollouts)", "nfe": "mean NFE per episode"}
    long = long.with_columns(pl.col("metric").replace(names))
    return alt.Chart(long).mark_line().encode(
        x=alt.X("iteration:Q", title="GRPO iteration"),
        y=alt.Y("value:Q", title="value (see panel)", scale=alt.Scale(zero=False)),
        color=alt.Color("metric:N", title="metric", legend=None),
    ).properties(width=220, height=160).facet(facet=alt.Facet("metric:N", title=None), columns=3).resolve_scale(
        y="independent").properties(title="GRPO training of the unmasking policy (stochastic rollouts)")


def front_chart(points: pl.DataFrame, title: str, task: str = "all") -> alt.LayerChart:
    """Every setting as a point, every rule's upper-left front as a line."""
    pts = fronts.observed(points).filter(pl.col("task") == task)
    lines = []
    for method in pts["method"].unique(maintain_order=True):
        sub = pts.filter(pl.col("method") == method)
        xs, ys = fronts.envelope(sub["nfe"], sub["accuracy"])
        lines.append(pl.DataFrame({"method": [method] * len(xs), "nfe": xs, "accuracy": ys}))
    order = [m for m in METHOD_ORDER if m in pts["method"].to_list()]
    color = alt.Color("method:N", title="unmasking rule", sort=order)
    x = alt.X("nfe:Q", title="mean NFE per example (dLLM calls)")
    y = alt.Y("accuracy:Q", title="exact-match accuracy", scale=alt.Scale(zero=False))  # fronts differ by tenths of a point
    dots = alt.Chart(pts).mark_point(opacity=0.6).encode(x=x, y=y, color=color, tooltip=["method", "knob", "nfe",
                                                                                          "accuracy"])
    front = alt.Chart(pl.concat(lines)).mark_line().encode(x=x, y=y, color=color)
    return (dots + front).properties(title=title, width=300, height=230)


def fronts_grid(panels: dict[str, pl.DataFrame], task: str = "all") -> alt.HConcatChart:
    return alt.hconcat(*(front_chart(points, title, task) for title, points in panels.items()))


def episode_chart(episode: pl.DataFrame) -> alt.Chart:
    return alt.Chart(episode).mark_bar().encode(
        x=alt.X("step:O", title="step (dLLM call)"),
        y=alt.Y("unmasked:Q", title="positions unmasked"),
        color=alt.Color("correct:N", title="answer correct (last step)"),
        tooltip=["masked_before", "unmasked", "reward"],
    ).properties(title="One episode of atelier/Unmasking-v0 (top-2 policy)", width=300, height=180)
