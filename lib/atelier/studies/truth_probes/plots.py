"""Study 06's figures (altair), one function per notebook section."""

from __future__ import annotations

import altair as alt
import polars as pl

AUROC = alt.Scale(domain=[0, 1], scheme="redblue", domainMid=0.5)


def accuracy(table: pl.DataFrame) -> alt.Chart:
    """Right and wrong answers per task (stacked counts)."""
    long = table.unpivot(index="task", on=["right", "wrong"], variable_name="answer", value_name="count")
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("count:Q", title="questions (count)", stack=True),
        y=alt.Y("task:N", title="task"),
        color=alt.Color("answer:N", title="SmolLM2 answer", scale=alt.Scale(range=["#009E73", "#D55E00"])),
        tooltip=["task", "answer", "count"],
    ).properties(title="SmolLM2-135M-Instruct answers, graded against the knowledge base", height=160)


def _heatmap(frame: pl.DataFrame, row: str, col: str, value: str, scale: alt.Scale, title: str,
             row_title: str, col_title: str) -> alt.Chart:
    base = alt.Chart(frame).encode(x=alt.X(f"{col}:N", title=col_title), y=alt.Y(f"{row}:N", title=row_title))
    cells = base.mark_rect().encode(color=alt.Color(f"{value}:Q", title=title, scale=scale))
    text = base.mark_text(fontSize=10).encode(text=alt.Text(f"{value}:Q", format=".2f"))
    return (cells + text).properties(width=170, height=170)


def transfer(frame: pl.DataFrame, probe: str = "logistic") -> alt.Chart:
    """Task x task AUROC heatmaps, one panel per layer (diagonal: cross-validated)."""
    data = frame.filter(pl.col("probe") == probe)
    return _heatmap(data, "train_task", "test_task", "auroc", AUROC, "AUROC", "probe trained on",
                    "probe tested on").facet(column=alt.Column("layer:O", title="residual-stream layer")).properties(
        title=f"Transfer of {probe} truth probes across tasks (AUROC; diagonal = 5-fold held out)")


def cosine(frame: pl.DataFrame) -> alt.Chart:
    """Cosine similarity of probe directions, one panel per probe kind."""
    scale = alt.Scale(domain=[-1, 1], scheme="redblue", domainMid=0)
    return _heatmap(frame, "task_a", "task_b", "cosine", scale, "cosine", "task", "task").facet(
        column=alt.Column("probe:N", title="probe")).properties(title="Cosine similarity of truth-probe directions")


def sparse(path: pl.DataFrame, overlap: pl.DataFrame) -> alt.HConcatChart:
    """L1 paths (support size vs C) and the Jaccard overlap of supports vs support size."""
    paths = alt.Chart(path).mark_line(point=True).encode(
        x=alt.X("C:Q", scale=alt.Scale(type="log"), title="inverse L1 strength C (log)"),
        y=alt.Y("nonzero:Q", title="non-zero weights (count)"),
        color=alt.Color("task:N", title="task"),
        tooltip=["task", "C", "nonzero", "cv_auroc"],
    ).properties(title="L1 regularisation paths")
    mean = overlap.group_by("k").agg(pl.col("jaccard").mean().alias("mean pairwise Jaccard"),
                                     pl.col("random").first().alias("two random supports"))
    long = mean.unpivot(index="k", variable_name="supports", value_name="jaccard")
    jac = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("k:Q", title="support size k (features)", scale=alt.Scale(type="log", base=2)),
        y=alt.Y("jaccard:Q", title="Jaccard index"),
        strokeDash=alt.StrokeDash("supports:N", title=""),
        tooltip=["k", "supports", "jaccard"],
    ).properties(title="Overlap of L1 supports across tasks (matched sparsity)")
    return alt.hconcat(paths, jac)


def cross_task(frame: pl.DataFrame, layer: int) -> alt.Chart:
    """Per-task AUROC of per-task, pooled and mixture probes (in distribution / held-out task)."""
    data = frame.filter(pl.col("layer") == layer).with_columns(
        probe=pl.col("method") + " (" + pl.col("setting").str.replace_all("_", " ") + ")")
    return alt.Chart(data).mark_bar().encode(
        x=alt.X("probe:N", title=None, axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("auroc:Q", title="AUROC on the task", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("probe:N", title="probe (setting)"),
        column=alt.Column("task:N", title="tested on task"),
        tooltip=["task", "method", "setting", alt.Tooltip("auroc:Q", format=".3f")],
    ).properties(width=90, title=f"Per-task vs pooled vs mixture-of-probes AUROC (layer {layer})")


def geometry(pca: pl.DataFrame, layer: int) -> alt.Chart:
    """Activations projected on their first two principal components, coloured by task."""
    v1, v2 = pca["pc1_variance"][0], pca["pc2_variance"][0]
    return alt.Chart(pca.with_columns(answer=pl.when("correct").then(pl.lit("right")).otherwise(pl.lit("wrong")))
                     ).mark_point(opacity=0.6).encode(
        x=alt.X("pc1:Q", title=f"PC 1 ({v1:.0%} of variance)"),
        y=alt.Y("pc2:Q", title=f"PC 2 ({v2:.0%} of variance)"),
        color=alt.Color("task:N", title="task"),
        shape=alt.Shape("answer:N", title="answer"),
    ).properties(title=f"Residual stream at layer {layer}, end of answer (PCA)", width=380, height=300)
