"""save_table: export a polars (or pandas) frame as parquet, CSV and a booktabs LaTeX table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl

from atelier.report.run import current_run


def _fmt(value) -> str:
    if value is None:
        return "--"
    if isinstance(value, float):
        if math.isnan(value):
            return "--"
        return f"{value:.4g}"
    return str(value)


def _json_cell(value) -> str:
    return json.dumps(value.to_list() if hasattr(value, "to_list") else value)


def _latex_escape(text: str) -> str:
    for a, b in [("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                 ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"),
                 ("^", r"\textasciicircum{}")]:
        text = text.replace(a, b)
    return text


def to_latex(df: pl.DataFrame) -> str:
    """A booktabs tabular of ``df``: numbers right-aligned and to 4 significant digits."""
    align = "".join("r" if dtype.is_numeric() else "l" for dtype in df.dtypes)
    lines = [rf"\begin{{tabular}}{{{align}}}", r"\toprule",
             " & ".join(_latex_escape(c) for c in df.columns) + r" \\", r"\midrule"]
    for row in df.iter_rows():
        lines.append(" & ".join(_latex_escape(_fmt(v)) for v in row) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", ""]
    return "\n".join(lines)


def save_table(df, name: str, directory: Path | None = None) -> pl.DataFrame:
    """Write ``name``.parquet/.csv/.tex into the run's tables/ and return the polars frame."""
    if not name or "/" in name:
        raise ValueError(f"table name {name!r} must be a non-empty file stem without '/'")
    frame = df if isinstance(df, pl.DataFrame) else pl.from_pandas(df)
    out = Path(directory) if directory is not None else current_run().tables
    out.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(out / f"{name}.parquet")
    flat = frame.select(  # CSV and LaTeX cells hold nested values as JSON text
        [pl.col(c).map_elements(_json_cell, return_dtype=pl.String) if dt.is_nested() else pl.col(c)
         for c, dt in frame.schema.items()]
    )
    flat.write_csv(out / f"{name}.csv")
    (out / f"{name}.tex").write_text(to_latex(flat))
    return frame
