"""Altair charts of study 07: the model, the sweeps, runtimes and the region graphs."""

from __future__ import annotations

import altair as alt
import numpy as np
import polars as pl

from atelier.studies.multiview_causal.eeg import EEGModel
from atelier.studies.multiview_causal.experiments import FACTORS, METHODS, METRICS, noise_table, summarize
from atelier.studies.multiview_causal.sem import MultiViewSample

METHOD_COLORS = alt.Scale(domain=[label for label, _ in METHODS.values()],
                          range=["#1f77b4", "#9467bd", "#2ca02c", "#ff7f0e", "#d62728"])  # same in every chart
STATUS_COLORS = {"simulated": "#444444", "true positive": "#1a9850", "false positive": "#d73027",
                 "missed": "#bbbbbb"}


def model_chart(sample: MultiViewSample) -> alt.VConcatChart:
    """Noise variances per view, the effects B_i, and the shared components' histograms."""
    m, p, _ = sample.X.shape
    kind = np.where(sample.gaussian, "Gaussian", "Laplace")  # of each shared component
    heat = alt.Chart(noise_table(sample), title="view-specific noise variances sigma_ij^2").mark_rect().encode(
        x=alt.X("component:O", title="shared component j"), y=alt.Y("view:O", title="view i"),
        color=alt.Color("variance:Q", title="sigma^2", scale=alt.Scale(scheme="viridis")),
        tooltip=["view", "component", "variance", "kind"])
    effects = pl.DataFrame([{"view": f"view {i + 1}", "effect on": f"x{a + 1}", "from": f"x{b + 1}",
                             "B": float(sample.B[i, a, b])} for i in range(m) for a in range(p) for b in range(p)])
    order = [f"x{v + 1}" for v in sample.order]
    B = alt.Chart(effects, title=f"causal effects B_i, variables in the shared order {' -> '.join(order)}").mark_rect(
    ).encode(
        x=alt.X("from:O", title="cause", sort=order), y=alt.Y("effect on:O", title="effect", sort=order),
        color=alt.Color("B:Q", title="B_i[effect, cause]", scale=alt.Scale(scheme="redblue", domainMid=0)),
        column=alt.Column("view:N", title=None)).properties(width=70, height=70)
    comps = pl.DataFrame({"component": np.repeat([f"s{j + 1} ({kind[j]})" for j in range(p)], sample.sources.shape[1]),
                          "value": sample.sources.ravel()})
    hist = alt.Chart(comps, title="shared components s (unit variance)").mark_bar().encode(
        x=alt.X("value:Q", bin=alt.Bin(maxbins=40), title="s_j"), y=alt.Y("count():Q", title="samples"),
        color=alt.Color("component:N", title="component"),
        column=alt.Column("component:N", title=None)).properties(width=110, height=90)
    top = alt.hconcat(heat.properties(width=140, height=140), B).resolve_scale(color="independent")
    return alt.vconcat(top, hist).resolve_scale(color="independent")


def sweep_chart(summary: pl.DataFrame, factor: str, title: str, chance: float | None = None,
                log_x: bool = False) -> alt.HConcatChart:
    """One panel per metric: mean and 95% interval over repetitions, vs the swept factor."""
    x_title = FACTORS[factor][1]
    panels = []
    for metric, y_title in METRICS.items():
        data = summary.filter(pl.col("metric") == metric)
        log_y = metric == "mse_B"
        if log_y:  # zero errors would break a log axis: floor at a tenth of the smallest mean
            floor = max(float(data["mean"].filter(data["mean"] > 0).min() or 1.0) / 10, 1e-12)
            data = data.with_columns(pl.col("mean", "low", "high").clip(lower_bound=floor))
        grid = sorted(set(data["value"].to_list()))
        x = alt.X("value:Q", title=x_title, axis=alt.Axis(values=grid, format="~s" if grid[-1] >= 1000 else "~g"),
                  scale=alt.Scale(type="log", domain=[grid[0], grid[-1]]) if log_x else alt.Scale())
        y_scale = alt.Scale(type="log") if log_y else alt.Scale()
        base = alt.Chart(data).encode(x=x, color=alt.Color("method:N", title="method", scale=METHOD_COLORS))
        layers = [  # the line first, so that the shared legend shows lines
            base.mark_line(point=True).encode(y=alt.Y("mean:Q", title=y_title, scale=y_scale),
                                              tooltip=["method", "value", "mean", "low", "high", "reps"]),
            base.mark_area(opacity=0.15).encode(y=alt.Y("low:Q", title=y_title, scale=y_scale), y2="high:Q"),
        ]
        if metric == "order_error" and chance is not None:
            layers.append(alt.Chart(pl.DataFrame({"chance": [chance]})).mark_rule(strokeDash=[4, 4]).encode(
                y="chance:Q"))
        panels.append(alt.layer(*layers).properties(width=190, height=170, title=y_title))
    return alt.hconcat(*panels).properties(title=title)


def runtime_chart(summary: pl.DataFrame) -> alt.LayerChart:
    """Fit time vs n per method (mean and 95% interval), log-log."""
    data = summary.filter(pl.col("metric") == "seconds").with_columns(pl.col("low").clip(lower_bound=1e-4))
    grid = sorted(set(data["value"].to_list()))
    base = alt.Chart(data, title="runtime on the same data (one fit, all views)").encode(
        x=alt.X("value:Q", title="samples per view n", axis=alt.Axis(values=grid, format="~s"),
                scale=alt.Scale(type="log", domain=[grid[0], grid[-1]])),
        color=alt.Color("method:N", title="method", scale=METHOD_COLORS))
    return alt.layer(
        base.mark_line(point=True).encode(y=alt.Y("mean:Q", title="seconds per fit", scale=alt.Scale(type="log")),
                                          tooltip=["method", "value", "mean"]),
        base.mark_area(opacity=0.15).encode(y=alt.Y("low:Q", title="seconds per fit", scale=alt.Scale(type="log")),
                                            y2="high:Q"),
    ).properties(width=380, height=260)


def _layout(model: EEGModel) -> dict[str, tuple[float, float]]:
    """Top view of the head: region centres' (x, y) in mm relative to the sphere centre."""
    xy = 1e3 * (model.centres - model.origin)[:, :2]
    return {name: (float(x), float(y)) for name, (x, y) in zip(model.names, xy)}


def graph_chart(edges: pl.DataFrame, model: EEGModel, rep: int = 0) -> alt.ConcatChart:
    """The simulated region graph and each method's graph, seen from above (nose up)."""
    pos = _layout(model)
    nodes = pl.DataFrame({"region": list(pos), "x": [v[0] for v in pos.values()], "y": [v[1] for v in pos.values()]})
    radius = 1.15 * max(np.hypot(nodes["x"], nodes["y"]))
    angle = np.linspace(0, 2 * np.pi, 100)
    head = pl.DataFrame({"x": radius * np.cos(angle), "y": radius * np.sin(angle), "k": np.arange(100)})
    data = edges.filter(pl.col("rep") == rep)
    sx, sy = zip(*[pos[s] for s in data["source"]]) if len(data) else ((), ())
    tx, ty = zip(*[pos[t] for t in data["target"]]) if len(data) else ((), ())
    data = data.with_columns(x=pl.Series(sx, dtype=pl.Float64), y=pl.Series(sy, dtype=pl.Float64),
                             x2=pl.Series(tx, dtype=pl.Float64), y2=pl.Series(ty, dtype=pl.Float64))
    # arrow head 80% of the way to the target, rotated along the edge (vega angles: clockwise from up)
    data = data.with_columns(ax=pl.col("x") + 0.8 * (pl.col("x2") - pl.col("x")),
                             ay=pl.col("y") + 0.8 * (pl.col("y2") - pl.col("y")),
                             angle=(90 - np.degrees(np.arctan2(pl.col("y2") - pl.col("y"),
                                                               pl.col("x2") - pl.col("x")))) % 360)
    scale = alt.Scale(domain=[-radius, radius])
    X, Y = alt.X("x:Q", scale=scale, axis=None), alt.Y("y:Q", scale=scale, axis=None)
    color = alt.Color("status:N", title="edge", scale=alt.Scale(domain=list(STATUS_COLORS),
                                                                 range=list(STATUS_COLORS.values())))
    panels = []
    for method in data["method"].unique(maintain_order=True):
        sub = data.filter(pl.col("method") == method)
        panels.append(alt.layer(
            alt.Chart(head).mark_line(color="#cccccc").encode(X, Y, order="k:Q"),
            alt.Chart(sub).mark_rule(strokeWidth=2.5).encode(X, Y, x2="x2:Q", y2="y2:Q", color=color,
                                                             tooltip=["source", "target", "weight", "status"]),
            alt.Chart(sub).mark_point(shape="triangle-up", filled=True, size=140, opacity=1).encode(
                alt.X("ax:Q", scale=scale, axis=None), alt.Y("ay:Q", scale=scale, axis=None), color=color,
                angle=alt.Angle("angle:Q", scale=None)),
            alt.Chart(nodes).mark_circle(size=500, color="#4c78a8", opacity=0.9).encode(X, Y),
            alt.Chart(nodes).mark_text(dy=-20, fontSize=11).encode(X, Y, text="region:N"),
        ).properties(width=240, height=240, title=method))
    return alt.concat(*panels, columns=3).properties(title=f"region graphs, simulated study {rep} (top view, nose up)")


def eeg_f1_chart(scores: pl.DataFrame) -> alt.LayerChart:
    """Edge F1 per method (mean and 95% interval over simulated studies) against chance."""
    s = summarize(scores.with_columns(factor=pl.lit("eeg"), value=pl.lit(0.0)), columns=("f1",))
    chance = float(scores["chance_f1"].mean())
    base = alt.Chart(s, title="edge F1 of the recovered region graph (EEG pipeline)").encode(
        y=alt.Y("method:N", title=None, sort=None))
    return alt.layer(
        base.mark_bar(opacity=0.8).encode(x=alt.X("mean:Q", title="edge F1", scale=alt.Scale(domain=[0, 1])),
                                          color=alt.Color("method:N", legend=None, scale=METHOD_COLORS)),
        base.mark_errorbar().encode(x=alt.X("low:Q", title="edge F1"), x2="high:Q"),
        alt.Chart(pl.DataFrame({"chance": [chance]})).mark_rule(strokeDash=[4, 4], color="black").encode(x="chance:Q"),
        alt.Chart(pl.DataFrame({"chance": [chance], "label": [f"chance {chance:.2f}"]})).mark_text(
            align="left", dx=4, dy=-88, fontSize=11).encode(x="chance:Q", text="label:N"),
    ).properties(width=360, height=160)
