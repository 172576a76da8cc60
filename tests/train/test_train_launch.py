"""launch(): DDP on 2 CPU processes (gloo) trains like one process with the same global batch."""

from pathlib import Path

import pytest
from torch.utils.data import DataLoader, DistributedSampler
from train_helpers import __file__ as helpers_file

from atelier.train import NextTokenLoss, TrainConfig, build_job, fit, launch

BUILDER = "train_helpers:build_tiny_job"
DATA = dict(n=64, seq_len=8, vocab=11)


@pytest.mark.slow
def test_ddp_matches_single_process(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(helpers_file).parent))
    config = TrainConfig(steps=12, lr=3e-3, warmup_steps=2, log_every=3)  # 8 steps an epoch: crosses one

    # Under DDP Lightning shards the training set with a shuffling DistributedSampler seeded by the
    # run's seed; each global batch is a contiguous slice of its permutation. One process with the
    # same sampler (one replica) and twice the batch size sees the same global batches.
    job = build_job(BUILDER, dict(DATA, batch_size=8), config.seed)
    dataset = job.train.dataset
    sampler = DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True, seed=config.seed)
    loader = DataLoader(dataset, batch_size=8, sampler=sampler)
    single = fit(config, job.model, NextTokenLoss(), loader, run_dir=tmp_path, name="single", peak_flops=1e9)

    result = launch(BUILDER, dict(DATA, batch_size=4), config, devices=2, strategy="ddp", run_dir=tmp_path,
                    name="ddp", peak_flops=1e9, timeout=300)
    assert result.metrics_path == tmp_path / "metrics" / "ddp.parquet"
    assert result.checkpoint is None
    ddp = result.metrics
    columns = ["step", "tokens"]
    assert ddp.select(columns).equals(single.metrics.select(columns))  # same global batch of 8 x 8 tokens
    for column in ["loss", "grad_norm", "accuracy"]:
        assert ddp[column].to_list() == pytest.approx(single.metrics[column].to_list(), rel=1e-4), column


def test_bad_launch_arguments_name_valid_values(tmp_path):
    with pytest.raises(ValueError, match="ddp"):
        launch(BUILDER, DATA, TrainConfig(), strategy="deepspeed", run_dir=tmp_path)
    with pytest.raises(ValueError, match="Slurm"):
        launch(BUILDER, DATA, TrainConfig(), nodes=2, run_dir=tmp_path)


@pytest.mark.slow
def test_failed_launch_reports_the_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(helpers_file).parent))
    with pytest.raises(RuntimeError, match="no data for"):
        launch("train_helpers:broken_job", {"n": 1}, TrainConfig(steps=1), devices=1, run_dir=tmp_path, timeout=300)
