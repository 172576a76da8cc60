"""ParquetLogger: what Lightning hands it comes back from disk as one row per step."""

import json

import polars as pl
import torch
from polars.testing import assert_frame_equal

from atelier.train import ParquetLogger


def test_round_trip(tmp_path):
    logger = ParquetLogger(tmp_path, "run")
    logger.log_hyperparams({"train": {"lr": 0.1}})
    logger.log_metrics({"loss": torch.tensor(1.5), "lr": 0.1}, step=0)
    logger.log_metrics({"val_loss": 2.0}, step=0)  # a second dict for the same step
    logger.log_metrics({"loss": 1.0, "lr": 0.05}, step=5)
    logger.log_metrics({"val_loss": 1.25}, step=6)
    logger.finalize("success")
    expected = pl.DataFrame({
        "step": [0, 5, 6],
        "loss": [1.5, 1.0, None],
        "lr": [0.1, 0.05, None],
        "val_loss": [2.0, None, 1.25],
    }, schema={"step": pl.Int64, "loss": pl.Float64, "lr": pl.Float64, "val_loss": pl.Float64})
    assert_frame_equal(pl.read_parquet(tmp_path / "run.parquet"), expected)
    assert_frame_equal(logger.frame, expected)
    assert json.loads((tmp_path / "run.hparams.json").read_text()) == {"train": {"lr": 0.1}}


def test_empty_logger_writes_an_empty_table(tmp_path):
    logger = ParquetLogger(tmp_path / "m", "empty")
    logger.finalize("success")
    assert pl.read_parquet(tmp_path / "m" / "empty.parquet").columns == ["step"]
