"""FLOPs per token against a hand count, MFU wiring, and the cached peak-FLOP/s measurement."""

import json

import polars as pl
import pytest
import torch
from train_helpers import TinyLM, token_batches

from atelier.train import NextTokenLoss, TrainConfig, fit, flops_per_token, measure_peak_flops


def hand_count(vocab, width, mlp, seq_len):
    """3 x forward FLOPs per token: 2 per multiply-add of each matmul, attention over all T keys."""
    matmuls = 3 * width * width + width * width + 2 * width * mlp + width * vocab  # qkv, proj, up+down, unembed
    attention = 2 * seq_len * width + 2 * seq_len * width  # q.k scores and the weighted sum of v
    return 3 * (2 * matmuls + attention)


@pytest.mark.parametrize("width, mlp, seq_len", [(16, 32, 8), (32, 48, 12)])
def test_counted_flops_match_hand_count(width, mlp, seq_len):
    model = TinyLM(vocab_size=11, width=width, mlp=mlp)
    tokens = torch.randint(0, 11, (3, seq_len))
    assert flops_per_token(model, tokens) == hand_count(11, width, mlp, seq_len)


def test_model_count_is_preferred():
    class Counted(TinyLM):
        def flops_per_token(self, seq_len):
            return 1000.0 * seq_len

    assert flops_per_token(Counted(), torch.zeros(2, 5, dtype=torch.long)) == 5000.0


def test_mfu_is_throughput_times_flops_over_peak(tmp_path):
    torch.manual_seed(0)
    peak = 1e9
    config = TrainConfig(steps=6, log_every=2)
    metrics = fit(config, TinyLM(), NextTokenLoss(), token_batches(16, 8, 11, 4), run_dir=tmp_path,
                  peak_flops=peak).metrics.filter(pl.col("mfu").is_not_null())
    assert metrics.height == 3
    expected = metrics["tokens_per_s"] * hand_count(11, 16, 32, 8) / peak
    assert metrics["mfu"].to_list() == pytest.approx(expected.to_list(), rel=1e-6)
    assert (metrics["tokens_per_s"] > 0).all()


def test_peak_is_measured_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_CACHE", str(tmp_path))
    measured = measure_peak_flops("cpu")
    assert measured > 1e6  # any CPU does more than a megaflop per second
    table = json.loads((tmp_path / "peak_flops.json").read_text())
    assert list(table.values()) == [measured]
    key = next(iter(table))
    (tmp_path / "peak_flops.json").write_text(json.dumps({key: 123.0}))
    assert measure_peak_flops("cpu") == 123.0  # read back, not measured again
