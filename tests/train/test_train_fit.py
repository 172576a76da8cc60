"""fit(): a tiny model memorises a tiny batch, runs are reproducible, metrics land in parquet."""

import dataclasses

import lightning as L
import polars as pl
import pytest
import torch
from torch.utils.data import DataLoader
from train_helpers import TinyLM, token_batches

from atelier.train import NextTokenLoss, TrainConfig, evaluate, fit

DETERMINISTIC = ["step", "loss", "lr", "grad_norm", "accuracy", "tokens", "val_loss", "val_accuracy"]


def memorisable_batch(n: int = 4, seq_len: int = 8, vocab: int = 11) -> DataLoader:
    """``n`` random sequences whose first tokens differ, so every prefix has one continuation."""
    tokens = torch.randint(0, vocab, (n, seq_len), generator=torch.Generator().manual_seed(3))
    tokens[:, 0] = torch.arange(n)
    return DataLoader([{"tokens": t} for t in tokens], batch_size=n)


def test_tiny_model_memorises_a_batch(tmp_path):
    torch.manual_seed(0)
    model = TinyLM(width=32, mlp=64)
    data = memorisable_batch()
    config = TrainConfig(steps=150, lr=1e-2, warmup_steps=10, schedule="constant", log_every=10)
    result = fit(config, model, NextTokenLoss(), data, run_dir=tmp_path, peak_flops=1e9)
    final = evaluate(result.model, NextTokenLoss(), data)
    assert final["loss"] < 0.05
    assert final["accuracy"] == 1.0
    assert result.metrics["loss"][0] > 1.0  # it started near log(11) = 2.4


def _run(tmp_path, seed: int, name: str) -> pl.DataFrame:
    torch.manual_seed(0)
    model = TinyLM()
    tokens = torch.randint(0, 11, (32, 8), generator=torch.Generator().manual_seed(0))
    train = DataLoader([{"tokens": t} for t in tokens], batch_size=4, shuffle=True)  # order set by the seed
    val = token_batches(8, 8, 11, 4, seed=1)
    config = TrainConfig(steps=20, lr=3e-3, warmup_steps=2, log_every=5, val_every=10, seed=seed)
    return fit(config, model, NextTokenLoss(), train, val, run_dir=tmp_path, name=name, peak_flops=1e9).metrics


def test_same_seed_same_metrics(tmp_path):
    first, second = _run(tmp_path, 0, "a"), _run(tmp_path, 0, "b")
    assert first.columns == second.columns
    assert {"tokens_per_s", "mfu", "val_loss", "grad_norm", "lr", "tokens"} <= set(first.columns)
    assert first.select(DETERMINISTIC).equals(second.select(DETERMINISTIC))
    # the seed matters: it sets the data order
    other = _run(tmp_path, 1, "c")
    assert not first.select(DETERMINISTIC).equals(other.select(DETERMINISTIC))


def test_metrics_file_steps_and_validation(tmp_path):
    metrics = _run(tmp_path, 0, "curve")
    on_disk = pl.read_parquet(tmp_path / "metrics" / "curve.parquet")
    assert on_disk.equals(metrics)
    assert metrics.filter(pl.col("loss").is_not_null())["step"].to_list() == [4, 9, 14, 19]
    # validation after 10 and after 20 updates
    assert metrics.filter(pl.col("val_loss").is_not_null())["step"].to_list() == [10, 20]
    # tokens seen: 4 sequences x 8 tokens per step, counted after the step
    train_rows = metrics.filter(pl.col("loss").is_not_null())
    assert train_rows["tokens"].to_list() == [(s + 1) * 32.0 for s in train_rows["step"]]
    assert not (tmp_path / "checkpoints").exists()


def test_final_validation_when_cadence_does_not_divide_steps(tmp_path):
    torch.manual_seed(0)
    config = TrainConfig(steps=7, log_every=3, val_every=5)
    result = fit(config, TinyLM(), NextTokenLoss(), token_batches(16, 8, 11, 4), token_batches(8, 8, 11, 4, seed=1),
                 run_dir=tmp_path, peak_flops=1e9)
    assert result.metrics.filter(pl.col("val_loss").is_not_null())["step"].to_list() == [5, 7]
    expected = evaluate(result.model, NextTokenLoss(), token_batches(8, 8, 11, 4, seed=1))
    assert result.metrics["val_loss"][-1] == pytest.approx(expected["loss"], rel=1e-5)


def test_checkpoint_only_when_asked(tmp_path):
    torch.manual_seed(0)
    result = fit(TrainConfig(steps=2, checkpoint=True), TinyLM(), NextTokenLoss(), token_batches(8, 8, 11, 4),
                 run_dir=tmp_path, name="ck", peak_flops=1e9)
    assert result.checkpoint == tmp_path / "checkpoints" / "ck.ckpt"
    state = torch.load(result.checkpoint, weights_only=False)["state_dict"]
    torch.testing.assert_close(state["model.embed.weight"], result.model.embed.weight)


class RecordWeights(L.Callback):
    """Keeps a copy of the embedding after every optimizer step."""

    def __init__(self):
        self.trajectory = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.trajectory.append(pl_module.model.embed.weight.detach().clone())


def test_ema_weights_are_returned(tmp_path):
    """With ema_decay the returned weights are the EMA of the iterates: e_1 = w_1, e_t = d e_(t-1) + (1-d) w_t."""
    decay, recorder = 0.5, RecordWeights()
    torch.manual_seed(0)
    config = TrainConfig(steps=6, lr=1e-2, schedule="constant", log_every=3)
    fit(config, TinyLM(), NextTokenLoss(), token_batches(8, 8, 11, 4), run_dir=tmp_path, name="plain",
        peak_flops=1e9, callbacks=[recorder])
    ema = recorder.trajectory[0]
    for weights in recorder.trajectory[1:]:
        ema = decay * ema + (1 - decay) * weights
    torch.manual_seed(0)
    averaged = fit(dataclasses.replace(config, ema_decay=decay), TinyLM(), NextTokenLoss(),
                   token_batches(8, 8, 11, 4), run_dir=tmp_path, name="ema", peak_flops=1e9).model
    torch.testing.assert_close(averaged.embed.weight.detach(), ema)
    assert not torch.allclose(ema, recorder.trajectory[-1])


def test_fit_needs_data(tiny_lm, tmp_path):
    with pytest.raises(ValueError, match="train"):
        fit(TrainConfig(steps=1), tiny_lm, NextTokenLoss(), run_dir=tmp_path)


class TokenData(L.LightningDataModule):
    def __init__(self, with_val: bool):
        super().__init__()
        if with_val:
            self.val_dataloader = lambda: token_batches(8, 8, 11, 4, seed=1)

    def train_dataloader(self):
        return token_batches(16, 8, 11, 4)


@pytest.mark.parametrize("with_val", [True, False])
def test_fit_from_a_datamodule(tmp_path, with_val):
    torch.manual_seed(0)
    config = TrainConfig(steps=5, log_every=5, val_every=3)
    metrics = fit(config, TinyLM(), NextTokenLoss(), datamodule=TokenData(with_val), run_dir=tmp_path,
                  peak_flops=1e9).metrics
    assert metrics.filter(pl.col("loss").is_not_null())["step"].to_list() == [4]
    assert ("val_loss" in metrics.columns) == with_val
    if with_val:
        assert metrics.filter(pl.col("val_loss").is_not_null())["step"].to_list() == [3, 5]


@pytest.mark.slow
def test_compiled_objective_trains_like_eager(tmp_path):
    # Same seed, same data: the compiled objective's loss curve matches the eager one (to float
    # reassociation), so `compile=True` changes speed, not the run.
    curves = []
    for compiled in (False, True):
        torch.manual_seed(0)
        model = TinyLM(width=32, mlp=64)
        config = TrainConfig(steps=6, lr=1e-2, schedule="constant", log_every=1, compile=compiled)
        result = fit(config, model, NextTokenLoss(), memorisable_batch(), run_dir=tmp_path, name=f"c{compiled}")
        curves.append(result.metrics["loss"].drop_nulls().to_torch())
    torch.testing.assert_close(curves[1], curves[0], rtol=1e-4, atol=1e-5)
    assert curves[0][-1] < curves[0][0]
