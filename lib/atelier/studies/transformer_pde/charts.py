"""Altair charts of study 10, one per experiment; each takes the experiment's table."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import polars as pl

PANEL = 200


def trajectories(table: pl.DataFrame) -> alt.Chart:
    """(1) Token paths per attention variant; colour = token index (it matters for causal)."""
    n = table["particle"].n_unique()
    base = alt.Chart(table).encode(
        x=alt.X("x1:Q", title="x₁ (token coordinate)"), y=alt.Y("x2:Q", title="x₂ (token coordinate)"),
        color=alt.Color("particle:Q", title="token index", scale=alt.Scale(scheme="viridis")),
    )
    paths = base.mark_line(strokeWidth=1, opacity=0.7).encode(detail="particle:N", order="t:Q")
    ends = base.transform_filter(alt.datum.t == float(table["t"].max())).mark_point(size=25, filled=True)
    return (paths + ends).properties(width=PANEL, height=PANEL).facet(
        facet=alt.Facet("variant:N", title="attention variant"), columns=3,
        title=f"Particle dynamics dx_i/dt = Γ[μ_n](x_i), n = {n}, t ≤ {table['t'].max():g}",
    ).resolve_scale(x="independent", y="independent")


def mean_field(table: pl.DataFrame) -> alt.Chart:
    """(2) Distance between the n- and 2n-particle systems vs n, per time."""
    means = table.group_by("variant", "t", "n").agg(pl.col("distance").mean()).sort("n")
    return alt.Chart(means).mark_line(point=True).encode(
        x=alt.X("n:Q", scale=alt.Scale(type="log"), title="particles n"),
        y=alt.Y("distance:Q", scale=alt.Scale(type="log"), title="W₂(μₙ(t), μ₂ₙ(t))"),
        color=alt.Color("variant:N", title="attention"),
    ).properties(width=PANEL, height=PANEL).facet(
        column=alt.Column("t:O", title="time t"), title="Mean-field limit: n vs 2n particles (mean over repetitions)"
    )


def moment_errors(summary: pl.DataFrame, threshold: float = 0.05) -> alt.Chart:
    """(3) Worst relative covariance error over time vs n, with the n^-1/2 reference."""
    n = summary["n"].to_numpy()
    anchor = summary.filter(pl.col("n") == n.min())["cov_error"].mean()
    reference = pl.DataFrame({"n": np.unique(n), "cov_error": anchor * np.sqrt(n.min() / np.unique(n)),
                              "variant": "∝ n^-1/2"})
    axes = dict(x=alt.X("n:Q", scale=alt.Scale(type="log"), title="particles n"),
                y=alt.Y("cov_error:Q", scale=alt.Scale(type="log"), title="relative Frobenius error of S"),
                color=alt.Color("variant:N", title="attention"))
    lines = alt.Chart(summary).mark_line(point=True).encode(**axes)
    ref = alt.Chart(reference).mark_line(strokeDash=[4, 4], color="black").encode(x=axes["x"], y=axes["y"])
    rule = alt.Chart(pl.DataFrame({"y": [threshold]})).mark_rule(color="grey").encode(y="y:Q")
    return (lines + ref + rule).properties(
        width=360, height=260, title="Particle covariance vs Gaussian ODE: worst error up to the horizon (dashed ∝ n^-1/2, grey 5%)")


def moments_over_time(table: pl.DataFrame) -> alt.Chart:
    """(3) Mean and covariance entries of the particles (points) and of the ODE (lines)."""
    long = table.unpivot(index=["variant", "source", "t"], variable_name="moment", value_name="value")
    base = alt.Chart(long).encode(x=alt.X("t:Q", title="time t"), y=alt.Y("value:Q", title="value"),
                                  color=alt.Color("moment:N", title="moment"))
    ode = base.transform_filter(alt.datum.source == "ode").mark_line()
    particles = base.transform_filter(alt.datum.source == "particles").mark_point(size=30)
    return (ode + particles).properties(width=PANEL, height=PANEL).facet(
        column=alt.Column("variant:N", title="attention"),
        title="Gaussian data: particle moments (points, largest n) vs the moment ODEs (lines)")


def normality(table: pl.DataFrame) -> alt.Chart:
    """(3) Standard scores of Mardia's statistics over time, with the |z| = 3 band."""
    base = alt.Chart(table)
    lines = base.mark_line(point=True).encode(
        x=alt.X("t:Q", title="time t"), y=alt.Y("z:Q", title="standard score z (0 for Gaussian clouds)"),
        color=alt.Color("variant:N", title="attention"))
    band = [base.mark_rule(strokeDash=[4, 4], color="grey").encode(y=alt.datum(z)) for z in (-3.0, 3.0)]
    return alt.layer(lines, *band).properties(width=PANEL + 60, height=PANEL).facet(
        column=alt.Column("statistic:N", title="Mardia statistic"),
        title="Normality of the particles from Gaussian data")


def _circle() -> pl.DataFrame:
    theta = np.linspace(0, 2 * math.pi, 121)
    return pl.DataFrame({"x_n": np.cos(theta), "y_n": np.sin(theta), "k": np.arange(121)})


def regimes(table: pl.DataFrame, max_paths: int = 60) -> alt.Chart:
    """(4) Per regime: S / tr S in the disc of cone coordinates (boundary = rank one) and tr S vs t."""
    discs, traces = [], []
    for regime in table["regime"].unique(maintain_order=True):
        part = table.filter(pl.col("regime") == regime)
        inits = part["init"].unique().sort()
        part = part.filter(pl.col("init").is_in(inits.gather_every(max(1, math.ceil(len(inits) / max_paths)))))
        color = alt.Color("init:Q", title="initial S (grid index)", scale=alt.Scale(scheme="viridis"))
        circle = alt.Chart(_circle()).mark_line(color="black", strokeWidth=0.8).encode(
            x="x_n:Q", y="y_n:Q", order="k:Q")
        paths = alt.Chart(part).mark_line(strokeWidth=1, opacity=0.7).encode(
            x=alt.X("x_n:Q", title="(a − b) / (a + b)", scale=alt.Scale(domain=[-1.05, 1.05])),
            y=alt.Y("y_n:Q", title="2c / (a + b)", scale=alt.Scale(domain=[-1.05, 1.05])),
            detail="init:N", order="t:Q", color=color)
        discs.append((circle + paths).properties(width=PANEL, height=PANEL, title=f"{regime}: S / tr S"))
        traces.append(alt.Chart(part.filter(pl.col("t") > 0)).mark_line(strokeWidth=1, opacity=0.7).encode(
            x=alt.X("t:Q", scale=alt.Scale(type="log"), title="time t"),
            y=alt.Y("z:Q", scale=alt.Scale(type="log"), title="tr S"), detail="init:N", color=color,
        ).properties(width=PANEL, height=PANEL, title=f"{regime}: tr S"))
    return alt.vconcat(alt.hconcat(*discs), alt.hconcat(*traces)).properties(
        title="2-D covariance ODE, S = [[a, c], [c, b]]: the four regimes")


def ranks(table: pl.DataFrame) -> alt.Chart:
    """(5) Histogram of the stationary rank per dimension and value matrix."""
    counts = table.group_by("d", "values", "rank").len("draws")
    bars = alt.Chart(counts).mark_bar().encode(
        x=alt.X("rank:O", title="rank of S at the horizon"), y=alt.Y("draws:Q", title="draws"),
        color=alt.Color("values:N", title="V"), xOffset="values:N")
    return bars.properties(width=150, height=PANEL).facet(
        column=alt.Column("d:O", title="dimension d"),
        title="Stationary covariance rank, K = −Q, Q ∈ R^(⌊d/2⌋ × d): bound d − ⌊d/2⌋")


def clustering(table: pl.DataFrame) -> alt.Chart:
    """(6) Number of clusters vs time, causal vs full attention."""
    return alt.Chart(table).mark_line(point=True).encode(
        x=alt.X("t:Q", title="time t"), y=alt.Y("clusters:Q", scale=alt.Scale(type="log"), title="clusters"),
        color=alt.Color("mask:N", title="attention mask"),
    ).properties(width=360, height=240, title="Clustering of tokens on the sphere (V = I)")
