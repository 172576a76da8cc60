"""sde_rescale against the Adam SDE rule computed by hand, and the AdamW timescale formulas."""

import dataclasses
import math

import pytest

from atelier.train import TrainConfig, adamw_timescale, sde_rescale, weight_decay_for_timescale

BASE = dict(lr=1e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1, steps=1000, warmup_steps=100, batch_size=32)


@pytest.mark.parametrize("k, expected", [
    # k = 4: lr * 2, 1 - beta * 4, eps / 2, wd * 2, steps / 4, batch * 4
    (4, dict(lr=2e-3, betas=(0.6, 0.96), eps=5e-9, weight_decay=0.2, steps=250, warmup_steps=25, batch_size=128)),
    # k = 1/4: lr / 2, 1 - beta / 4, eps * 2, wd / 2, steps * 4, batch / 4
    (0.25, dict(lr=5e-4, betas=(0.975, 0.9975), eps=2e-8, weight_decay=0.05, steps=4000, warmup_steps=400,
                batch_size=8)),
])
def test_sde_rescale_hand_computed(k, expected):
    out = sde_rescale(dict(BASE), k)
    assert set(out) == set(expected)
    for name, value in expected.items():
        assert out[name] == pytest.approx(value, rel=1e-12), name


def test_k_one_is_identity_and_types_are_kept():
    train = TrainConfig(steps=500, lr=3e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, warmup_steps=50)
    assert sde_rescale(train, 1) == train
    assert sde_rescale(dict(BASE), 1.0) == BASE
    rescaled = sde_rescale(train, 2)
    assert isinstance(rescaled, TrainConfig)
    assert rescaled.schedule == train.schedule and rescaled.grad_clip == train.grad_clip


def test_per_step_decay_scales_with_k_and_timescale_is_kept():
    k = 8
    out = sde_rescale(dict(BASE), k)
    assert out["lr"] * out["weight_decay"] == pytest.approx(k * BASE["lr"] * BASE["weight_decay"])
    tokens = 1e6
    before = adamw_timescale(BASE["batch_size"], BASE["lr"], BASE["weight_decay"], tokens)
    after = adamw_timescale(out["batch_size"], out["lr"], out["weight_decay"], tokens)
    assert after == pytest.approx(before)


def test_separate_betas_and_other_dataclasses():
    @dataclasses.dataclass(frozen=True)
    class StudyKnobs:
        lr: float = 0.01
        beta1: float = 0.9
        beta2: float = 0.999
        width: int = 64

    out = sde_rescale(StudyKnobs(), 2)
    assert out == StudyKnobs(lr=0.01 * math.sqrt(2), beta1=0.8, beta2=0.998, width=64)


@pytest.mark.parametrize("hparams, k, message", [
    (dict(betas=(0.9, 0.99)), 20, "beta1"),
    (dict(batch_size=32), 0.3, "batch_size"),
    (dict(steps=3), 10, "steps"),
    (dict(lr=1e-3), 0, "k="),
    (dict(lr=1e-3), -2, "k="),
])
def test_bad_rescale_names_the_value(hparams, k, message):
    with pytest.raises(ValueError, match=message):
        sde_rescale(hparams, k)


def test_timescale_hand_values_and_inverse():
    # tau = B / (lr * wd * D) = 32 / (1e-3 * 0.1 * 3200) = 100 epochs
    assert adamw_timescale(32, 1e-3, 0.1, 3200) == pytest.approx(100.0)
    assert weight_decay_for_timescale(100.0, 32, 1e-3, 3200) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="wd"):
        adamw_timescale(32, 1e-3, 0.0, 3200)
