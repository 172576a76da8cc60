"""ParquetLogger: a Lightning logger that writes training curves as one parquet file.

Lightning hands a logger dicts of scalars with the step they belong to, possibly several
dicts for the same step (training metrics, then validation metrics). The logger keeps them
in memory and, when training ends, writes one wide table, one row per step and one column
per metric (null where a metric was not logged at that step), to
``<directory>/<name>.parquet``; the hyperparameters go to ``<name>.hparams.json``.
Writing only at the end keeps per-step cost near zero; ``frame`` gives the table at any time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import torch
from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities.rank_zero import rank_zero_only


def _scalar(value: Any) -> float:
    return float(value.item() if isinstance(value, torch.Tensor) else value)


class ParquetLogger(Logger):
    """Collects logged metrics and writes ``<directory>/<name>.parquet`` on finalize."""

    def __init__(self, directory: str | Path, name: str = "train"):
        super().__init__()
        if not name or "/" in name:
            raise ValueError(f"logger name {name!r} must be a non-empty file stem without '/'")
        self._directory = Path(directory)
        self._name = name
        self._rows: list[dict[str, float]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return ""

    @property
    def save_dir(self) -> str:
        return str(self._directory)

    @property
    def path(self) -> Path:
        """Where the metrics table is written."""
        return self._directory / f"{self._name}.parquet"

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, Any], step: int | None = None) -> None:
        row = {k: _scalar(v) for k, v in metrics.items()}
        row["step"] = step if step is not None else len(self._rows)
        self._rows.append(row)

    @rank_zero_only
    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        params = dict(params) if params else {}
        if params:
            self._directory.mkdir(parents=True, exist_ok=True)
            (self._directory / f"{self._name}.hparams.json").write_text(json.dumps(params, indent=1, default=str))

    @property
    def frame(self) -> pl.DataFrame:
        """One row per step (ascending), one Float64 column per metric; ``step`` is Int64."""
        if not self._rows:
            return pl.DataFrame(schema={"step": pl.Int64})
        rows = pl.from_dicts(self._rows, infer_schema_length=None)
        metrics = [c for c in rows.columns if c != "step"]
        return (
            rows.with_columns(pl.col("step").cast(pl.Int64), pl.col(metrics).cast(pl.Float64))
            .group_by("step", maintain_order=True)
            .agg(pl.col(metrics).drop_nulls().last())
            .sort("step")
            .select("step", *sorted(metrics))
        )

    @rank_zero_only
    def finalize(self, status: str) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        self.frame.write_parquet(self.path)
