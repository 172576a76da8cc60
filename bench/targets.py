"""The performance targets, read off a bench results table: measured value, target, met or by how much.

Each target is checked only when the sections it needs ran (``--only`` may skip some). The
training targets read the largest size of the train-step section (the last one run).
"""

from __future__ import annotations

import polars as pl

MFU_TARGETS = {"float32": 75.0, "bfloat16": 40.0}  # % of the measured matmul peak of that dtype, largest size
OVERHEAD_TARGET = 5.0  # % of Lightning over the plain loop
TOKENS_PER_CALL_TARGET = 2.5  # threshold sampler, within ACCURACY_SLACK of one token per call
ACCURACY_SLACK = 1.0  # accuracy points
RUNNER_TARGET = 2.0  # seconds of overhead per run beyond the kernel's start


def _value(frame: pl.DataFrame, section: str, name: str, metric: str) -> float | None:
    hit = frame.filter((pl.col("section") == section) & (pl.col("name") == name) & (pl.col("metric") == metric))
    return hit["value"][0] if hit.height else None


def _row(target: str, value: float, op: str, threshold: float, unit: str) -> dict:
    met = value >= threshold if op == ">=" else value <= threshold
    return {"target": target, "measured": value, "op": op, "threshold": threshold, "unit": unit, "met": met}


def check(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per target: target, measured, op, threshold, unit, met."""
    rows = []
    steps = frame.filter(pl.col("section") == "train_step")
    peak = steps.filter(pl.col("name") == "peak")["metric"]
    mfu_target = MFU_TARGETS[peak[0] if peak.len() else "float32"]  # the dtype the step bench ran in
    for objective in ("ar", "mdm"):
        names = [n for n in steps["name"].unique(maintain_order=True) if n.endswith(f" {objective}")]
        if names:
            largest = names[-1]
            mfu = [v for v in (_value(frame, "train_step", largest, f"lightning {mode} MFU") for mode in ("eager", "compiled"))
                   if v is not None]
            if mfu:
                rows.append(_row(f"training MFU (best of eager, compiled), {largest}", max(mfu), ">=", mfu_target, "%"))
            overhead = _value(frame, "train_step", largest, "lightning overhead")
            if overhead is not None:
                rows.append(_row(f"Lightning overhead, {largest}", overhead, "<=", OVERHEAD_TARGET, "%"))
    loss = frame.filter(pl.col("section") == "masked_loss")
    for name in loss["name"].unique(maintain_order=True):
        for kind, unit in (("time", "x"), ("memory", "x")):
            full, masked = (_value(frame, "masked_loss", name, f"{v} {kind}") for v in ("full logits", "masked rows"))
            if full and masked:
                rows.append(_row(f"masked-rows loss {kind} / full logits, {name}", masked / full, "<=", 1.0, unit))
    samplers = frame.filter(pl.col("section") == "samplers")
    reference = _value(frame, "samplers", "one per call (top-k k=1)", "accuracy")
    if reference is not None:
        within = [_value(frame, "samplers", n, "tokens per call") for n in samplers["name"].unique()
                  if n.startswith("threshold")
                  and _value(frame, "samplers", n, "accuracy") >= reference - ACCURACY_SLACK]
        rows.append(_row(f"threshold tokens per call within {ACCURACY_SLACK:g} point of one per call",
                         max(within, default=0.0), ">=", TOKENS_PER_CALL_TARGET, "tokens"))
    overhead = _value(frame, "runner", "one run", "overhead beyond kernel start")
    if overhead is not None:
        rows.append(_row("runner overhead per run", overhead, "<=", RUNNER_TARGET, "s"))
    schema = {"target": pl.String, "measured": pl.Float64, "op": pl.String, "threshold": pl.Float64,
              "unit": pl.String, "met": pl.Boolean}
    return pl.DataFrame(rows, schema=schema)


def markdown(table: pl.DataFrame) -> list[str]:
    """The targets as a markdown section; a missed target says by how much."""
    lines = ["## targets", "", "| target | measured | target | met |", "|---|---|---|---|"]
    for r in table.iter_rows(named=True):
        verdict = "yes" if r["met"] else f"no, by {abs(r['measured'] - r['threshold']):.3g} {r['unit']}"
        lines.append(f"| {r['target']} | {r['measured']:.3g} {r['unit']} | {r['op']} {r['threshold']:g} | {verdict} |")
    return lines + [""]
