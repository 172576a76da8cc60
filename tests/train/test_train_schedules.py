"""LR schedule factors against their formulas, and the optimizer following them step by step."""

import math

import pytest
import torch

from atelier.train import LanguageModel, NextTokenLoss, Schedule, TrainConfig, lr_factor

W, N, M = 10, 110, 0.1  # warmup steps, total steps, final factor


def cosine(p):
    return M + (1 - M) * 0.5 * (1 + math.cos(math.pi * p))


@pytest.mark.parametrize("kind, step, expected", [
    ("cosine", 0, 1 / W), ("cosine", 4, 5 / W), ("cosine", 9, 1.0), ("cosine", 10, 1.0),
    ("cosine", 35, cosine(0.25)), ("cosine", 60, cosine(0.5)), ("cosine", 110, M), ("cosine", 200, M),
    ("linear", 0, 1 / W), ("linear", 35, 1 - (1 - M) * 0.25), ("linear", 85, 1 - (1 - M) * 0.75),
    ("linear", 110, M),
    ("constant", 3, 4 / W), ("constant", 50, 1.0), ("constant", 110, 1.0),
    # wsd with decay_fraction 0.2: stable until step 88, linear to M by step 110
    ("wsd", 5, 6 / W), ("wsd", 60, 1.0), ("wsd", 88, 1.0), ("wsd", 99, 1 - (1 - M) * 0.5), ("wsd", 110, M),
])
def test_factor_matches_formula(kind, step, expected):
    assert lr_factor(step, kind, W, N, min_factor=M, decay_fraction=0.2) == pytest.approx(expected)


def test_no_warmup_starts_at_peak():
    assert lr_factor(0, "cosine", 0, 100) == 1.0
    assert lr_factor(100, "cosine", 0, 100) == pytest.approx(0.0)


def test_bad_schedule_names_valid_ones():
    with pytest.raises(ValueError, match="cosine"):
        lr_factor(0, "cosin", 0, 10)
    with pytest.raises(ValueError, match="warmup_steps"):
        Schedule("cosine", warmup_steps=20, total_steps=10)
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="exp")


def test_optimizer_lr_follows_schedule(tiny_lm):
    config = TrainConfig(steps=N, lr=2e-3, warmup_steps=W, schedule="cosine", min_lr_factor=M)
    setup = LanguageModel(tiny_lm, NextTokenLoss(), config).configure_optimizers()
    optimizer, scheduler = setup["optimizer"], setup["lr_scheduler"]["scheduler"]
    for step in range(N):
        expected = 2e-3 * ((step + 1) / W if step < W else cosine((step - W) / (N - W)))
        assert all(g["lr"] == pytest.approx(expected) for g in optimizer.param_groups), step
        optimizer.step()
        scheduler.step()


def test_default_groups_decay_matrices_only(tiny_lm):
    config = TrainConfig(weight_decay=0.1)
    optimizer = LanguageModel(tiny_lm, NextTokenLoss(), config).configure_optimizers()["optimizer"]
    by_decay = {g["weight_decay"]: g["params"] for g in optimizer.param_groups}
    assert {p.ndim for p in by_decay[0.1]} == {2}
    assert {p.ndim for p in by_decay[0.0]} == {1}  # the LayerNorm gain and bias
    assert sum(p.numel() for ps in by_decay.values() for p in ps) == sum(p.numel() for p in tiny_lm.parameters())
    assert isinstance(optimizer, torch.optim.AdamW)
