"""Claims: a study's headline findings, each measured against a threshold.

A claim is never asserted: its ``holds`` is computed from the measured ``value``, the
``threshold`` and the comparison ``op``. ``save_claims`` writes them to claims.json in the
run dir (the gallery reads it) and returns a table for display in the notebook.
"""

from __future__ import annotations

import dataclasses
import json
import math
import operator
from pathlib import Path

import polars as pl

from atelier.report.run import current_run

OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclasses.dataclass(frozen=True)
class Claim:
    """One finding: ``value op threshold`` must hold at the cpu preset."""

    name: str
    statement: str
    value: float
    op: str
    threshold: float
    figure: str = ""

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"claim {self.name!r}: op {self.op!r} is not one of {list(OPS)}")
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "threshold", float(self.threshold))

    @property
    def holds(self) -> bool:
        return not math.isnan(self.value) and bool(OPS[self.op](self.value, self.threshold))

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["value"] = None if math.isnan(self.value) else self.value
        d["holds"] = self.holds
        return d


def claims_table(claims: list[Claim]) -> pl.DataFrame:
    return pl.DataFrame(
        [c.to_dict() for c in claims],
        schema={"name": pl.String, "statement": pl.String, "value": pl.Float64, "op": pl.String,
                "threshold": pl.Float64, "figure": pl.String, "holds": pl.Boolean},
    )


def save_claims(claims: list[Claim], directory: Path | None = None) -> pl.DataFrame:
    """Write claims.json into the run dir and return the claims as a table."""
    names = [c.name for c in claims]
    if len(set(names)) != len(names):
        raise ValueError(f"claim names must be unique, got {names}")
    out = Path(directory) if directory is not None else current_run().path
    out.mkdir(parents=True, exist_ok=True)
    (out / "claims.json").write_text(json.dumps([c.to_dict() for c in claims], indent=1))
    return claims_table(claims)


def load_claims(path: Path) -> list[dict]:
    """The claims of a run dir (empty when the run wrote none)."""
    f = Path(path) / "claims.json"
    return json.loads(f.read_text()) if f.exists() else []
