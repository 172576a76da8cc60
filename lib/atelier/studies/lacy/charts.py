"""Figures of the study, each readable on its own (title, axis titles with units, legend)."""

from __future__ import annotations

import html

import altair as alt
import polars as pl

RULE_NAMES = {"none": "none (plain LM)", "loss": "loss-only", "rho": "Rho-1 (excess loss)",
              "lacy": "LaCy (loss + spaCy)"}


def loss_by_category(table: pl.DataFrame) -> alt.Chart:
    return alt.Chart(table.head(16)).mark_bar().encode(
        x=alt.X("mean_loss:Q", title="mean reference-SLM loss (nats/token)"),
        y=alt.Y("category:N", sort="-x", title="spaCy category (entity type or POS)"),
        color=alt.Color("factual:Q", title="share spaCy-factual", scale=alt.Scale(scheme="viridis")),
        tooltip=["category", "n", "mean_loss", "share_of_top", "fact_value"],
    ).properties(title="Per-token loss of the reference SLM by spaCy category", width=380, height=300)


def precision_recall(table: pl.DataFrame) -> alt.Chart:
    long = table.unpivot(["precision", "recall"], index=["q", "selector"], variable_name="metric")
    return alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("q:Q", title="loss quantile q (fraction of tokens)"),
        y=alt.Y("value:Q", title="precision / recall vs factual errors"),
        color=alt.Color("selector:N", title="selector"), strokeDash=alt.StrokeDash("metric:N", title="metric"),
    ).properties(title="Finding the SLM's factual errors: loss alone vs loss AND spaCy", width=380, height=260)


def factscore_vs_call_rate(summary: pl.DataFrame, r_star: float) -> alt.LayerChart:
    data = summary.with_columns(rule=pl.col("rule").replace(RULE_NAMES), call_rate_pct=pl.col("call_rate") * 100)
    base = alt.Chart(data).encode(
        x=alt.X("call_rate_pct:Q", title="CALL rate (% of the SLM's predictions)"),
        y=alt.Y("factscore:Q", title="FactScore (share of checked facts true)", scale=alt.Scale(zero=False)),
        color=alt.Color("rule:N", title="labelling rule"),
        tooltip=["rule", "budget", "call_rate", "factscore", "leakage"],
    )
    rule = alt.Chart(pl.DataFrame({"x": [r_star * 100]})).mark_rule(strokeDash=[4, 4], color="gray").encode(x="x:Q")
    return (base.mark_line(point=True) + rule).properties(
        title="Cascade FactScore vs CALL rate (dashed: matched rate of the claims)", width=420, height=300)


def leakage_vs_call_rate(summary: pl.DataFrame) -> alt.Chart:
    data = summary.with_columns(rule=pl.col("rule").replace(RULE_NAMES), call_rate_pct=pl.col("call_rate") * 100,
                                leakage_pct=pl.col("leakage") * 100)
    return alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("call_rate_pct:Q", title="CALL rate (% of the SLM's predictions)"),
        y=alt.Y("leakage_pct:Q", title="fact leakage (% of checked facts false, not delegated)"),
        color=alt.Color("rule:N", title="labelling rule"),
    ).properties(title="Fact leakage vs CALL rate", width=420, height=300)


def coloured_tokens(tokens: pl.DataFrame, doc: int, q: float) -> str:
    """HTML of one document: red background = loss in the top q%, bold = spaCy-factual."""
    cut = tokens["loss_ref"].quantile(1 - q)
    parts = []
    for row in tokens.filter(pl.col("doc") == doc).iter_rows(named=True):
        style = "background:#f4a6a6;" if row["loss_ref"] >= cut else ""
        style += "font-weight:bold;" if row["factual"] else ""
        title = f'{row["loss_ref"]:.2f} {row["category"]}'
        parts.append(f'<span style="{style}" title="{title}">{html.escape(row["token"])}</span>')
    return "<p style='font-family:monospace;white-space:pre-wrap'>" + "".join(parts) + "</p>"
