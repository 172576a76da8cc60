"""Figures of the study, each readable on its own (title, axis titles with units, legend)."""

from __future__ import annotations

import altair as alt
import polars as pl

from atelier.report import tight_log_scale

MODALITY_ORDER = ["text", "image", "audio", "all"]
LOSS_TITLE = "validation NELBO (nats/token)"


def scaling_chart(predictions: pl.DataFrame) -> alt.FacetChart:
    """Loss vs tokens per width, measured (points, the mean over the grid's replicates; the held-out
    size as squares) and fitted (dashed lines)."""
    seeds = int(predictions["replicates"].max())
    color = alt.Color("N:O", title="non-embedding params N", scale=alt.Scale(scheme="viridis"))
    x = alt.X("D:Q", title="training tokens D", scale=tight_log_scale())
    points = alt.Chart().mark_point(size=60, filled=True).encode(
        x=x, y=alt.Y("loss:Q", title=LOSS_TITLE, scale=tight_log_scale(zero=False)),
        color=color, shape=alt.Shape("held_out:N", title="held out of the fit"))
    lines = alt.Chart().mark_line(strokeDash=[4, 2]).encode(x=x, y="fitted:Q", color=color)
    return alt.layer(points, lines, data=predictions).properties(width=170, height=150).facet(
        column=alt.Column("modality:N", sort=MODALITY_ORDER, title=None)).resolve_scale(y="independent").properties(
        title=f"Scaling: L(N, D) = E + A/N^α + B/D^β per modality, fitted without the largest N (dashed); "
              f"mean of {seeds} seeds")


def iso_flop_chart(curves: pl.DataFrame) -> alt.FacetChart:
    """The fitted loss along N at fixed compute C = 6 N D."""
    return alt.Chart(curves).mark_line().encode(
        x=alt.X("N:Q", title="non-embedding params N", scale=alt.Scale(type="log")),
        y=alt.Y("loss:Q", title=f"fitted {LOSS_TITLE}", scale=alt.Scale(zero=False)),
        color=alt.Color("C:O", title="compute C = 6ND (FLOPs)", legend=alt.Legend(format=".1e"),
                        scale=alt.Scale(scheme="plasma")),
    ).properties(width=170, height=150).facet(
        column=alt.Column("modality:N", sort=MODALITY_ORDER, title=None)).resolve_scale(y="independent").properties(
        title="Iso-FLOP curves of the fitted laws (the minimum is the compute-optimal size)")


def bars_chart(table: pl.DataFrame, key: str, key_title: str, title: str) -> alt.FacetChart:
    """Validation loss per setting of `key`, one panel per modality."""
    return alt.Chart(table).mark_bar().encode(
        x=alt.X(f"{key}:N", title=key_title, sort=table[key].unique(maintain_order=True).to_list()),
        y=alt.Y("loss:Q", title=LOSS_TITLE, scale=alt.Scale(zero=False)),
        color=alt.Color(f"{key}:N", title=key_title, sort=table[key].unique(maintain_order=True).to_list()),
    ).properties(width=130, height=150).facet(
        column=alt.Column("modality:N", sort=MODALITY_ORDER, title=None)).resolve_scale(y="independent").properties(
        title=title)


def batch_chart(finals: pl.DataFrame, curves: pl.DataFrame, seq_len: int, window: int = 5) -> alt.HConcatChart:
    """The claim's quantity, final validation NELBO vs physical batch per rule (its spread is what the
    rule shrinks), beside the training loss (running mean over `window` logged points) vs tokens."""
    final = alt.Chart(finals).mark_line(point=True).encode(
        x=alt.X("batch_size:O", title="physical batch (sequences)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("loss:Q", title="final validation NELBO (nats/token)", scale=alt.Scale(zero=False)),
        color=alt.Color("rule:N", title=None, sort=["no rule", "SDE rule"]),
    ).properties(width=200, height=180, title="final loss at the same tokens")
    smooth = curves.sort("rule", "batch_size", "examples").with_columns(
        tokens=pl.col("examples") * seq_len,
        loss=pl.col("loss").rolling_mean(window, min_samples=1).over("rule", "batch_size"))
    training = alt.Chart(smooth).mark_line().encode(
        x=alt.X("tokens:Q", title="training tokens"),
        y=alt.Y("loss:Q", title="training NELBO (nats/token, running mean)", scale=alt.Scale(zero=False)),
        color=alt.Color("batch_size:O", title="physical batch (sequences)", scale=alt.Scale(scheme="viridis")),
    ).properties(width=220, height=180).facet(column=alt.Column("rule:N", title=None, sort=["no rule", "SDE rule"]))
    return alt.hconcat(final, training).resolve_scale(color="independent").properties(
        title="Batch size: same tokens, physical batch k x logical, with and without the SDE rule")


def sampler_chart(grid: pl.DataFrame) -> alt.FacetChart:
    """Accuracy of text-to-image and text-to-speech samples, and the within-digit diversity of the
    drawn digits relative to real ones, vs steps, per order and temperature."""
    long = grid.filter(pl.col("steps").is_not_null()).unpivot(
        index=["order", "steps", "temperature"], on=["image_accuracy", "audio_accuracy", "image_diversity"],
        variable_name="metric", value_name="value")
    return alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("steps:Q", title="sampling steps (model calls)", scale=alt.Scale(type="log", base=2)),
        y=alt.Y("value:Q", title="accuracy vs prompt (chance 0.1) / diversity vs real digits"),
        color=alt.Color("order:N", title="unmasking order"),
        strokeDash=alt.StrokeDash("temperature:O", title="temperature"),
    ).properties(width=220, height=170).facet(column=alt.Column("metric:N", title=None)).properties(
        title="Sampling defaults: quality and diversity vs steps per unmasking order (selection draws)")


def image_grid_chart(pixels: pl.DataFrame, per_digit: int = 6) -> alt.FacetChart:
    """A grid of sampled digits: one row per prompted digit."""
    shown = pixels.with_columns(column=pl.col("sample") // 10).filter(pl.col("column") < per_digit)
    return alt.Chart(shown).mark_rect().encode(
        x=alt.X("x:O", axis=None), y=alt.Y("y:O", axis=None),
        color=alt.Color("grey:Q", title="grey level (0-16)", scale=alt.Scale(scheme="greys")),
    ).properties(width=40, height=40).facet(
        row=alt.Row("digit:O", title="prompted digit"), column=alt.Column("column:O", title="sample")).properties(
        title="Text-to-image samples of the default sampler")


def spectrogram_chart(frames: pl.DataFrame) -> alt.FacetChart:
    """Log-mel frames of the sampled speech, one panel per prompted word."""
    return alt.Chart(frames).mark_rect().encode(
        x=alt.X("frame:O", title="frame (40 ms)", axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("band:O", title="mel band", sort="descending", axis=alt.Axis(labels=False, ticks=False)),
        color=alt.Color("log_mel:Q", title="log-mel power (nats)", scale=alt.Scale(scheme="magma")),
    ).properties(width=120, height=70).facet(
        facet=alt.Facet("word:N", title="prompted word", sort=frames["word"].unique(maintain_order=True).to_list()),
        columns=5).properties(title="Text-to-speech samples: codebook log-mel spectrograms")
