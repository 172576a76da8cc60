"""Study 08: the injection stream, the forgetting law, and the run summaries, against references
computed independently (the sampling definition, synthetic laws, hand-built trajectories)."""

import math

import numpy as np
import polars as pl
import pytest
import torch

from atelier.nn import param_groups
from atelier.studies.finetune_forgetting import (
    Config, Corpora, ForgettingLaw, Trajectory, continuous_early_stop, early_stops, eval_steps, finetune_stream,
    fit_forgetting, injection_knee, injection_mask, seed_mean_curves, summarise, u_curve_depth,
)
from atelier.studies.finetune_forgetting.models import build_model, pretrain_steps


@pytest.mark.parametrize("p", [0.0, 0.001, 0.01, 0.05, 0.5, 1.0])
def test_injection_count_is_floor_or_ceil_of_np(p):
    for offset in (0.0, 0.3, 0.999):
        count = int(injection_mask(1000 + 7, p, offset).sum())
        assert count in (math.floor(1007 * p), math.ceil(1007 * p))


def test_every_slot_is_injected_with_probability_p():
    """Averaged over a fine uniform grid of offsets, each slot's injection frequency is p (Bernoulli(p) marginal)."""
    p = 0.013
    offsets = (np.arange(4000) + 0.5) / 4000
    freq = np.mean([injection_mask(300, p, u) for u in offsets], axis=0)
    np.testing.assert_allclose(freq, p, atol=1 / 4000 + 1e-12)


def test_injection_mask_rejects_bad_fraction():
    with pytest.raises(ValueError, match="p=1.5"):
        injection_mask(10, 1.5, 0.0)


def test_stream_cycles_the_target_set_and_draws_distinct_pretraining_blocks():
    target = torch.arange(5).repeat_interleave(4).view(5, 4)  # block k is all k
    pretrain = 100 + torch.arange(50).repeat_interleave(4).view(50, 4)  # block j is all 100 + j
    stream, injected = finetune_stream(target, pretrain, p=0.1, n=60, seed=3)
    ids = stream[:, 0].numpy()
    assert (stream == stream[:, :1]).all()  # whole blocks, never mixed
    assert (ids[injected] >= 100).all() and (ids[~injected] < 5).all()
    assert len(set(ids[injected])) == injected.sum()  # no pretraining block twice
    target_ids = ids[~injected]
    for epoch in range(len(target_ids) // 5):  # every full epoch is a permutation of the set
        assert sorted(target_ids[5 * epoch: 5 * epoch + 5]) == list(range(5))


def test_target_sets_are_nested_prefixes():
    blocks = torch.arange(40).view(10, 4)
    corpora = Corpora(tokenizer=None, pretrain=blocks, pretrain_val=blocks, target={"x": blocks},
                      target_val={"x": blocks}, law_val={"x": blocks})
    assert torch.equal(corpora.target_set("x", 8), blocks[:2])
    assert torch.equal(corpora.target_set("x", 40)[:2], corpora.target_set("x", 8))
    with pytest.raises(ValueError, match="1..10 blocks"):
        corpora.target_set("x", 400)


def test_eval_steps_are_increasing_and_end_at_the_last_step():
    steps = eval_steps(160, 8)
    assert steps == sorted(set(steps)) and steps[0] == 1 and steps[-1] == 160
    assert max(np.diff(steps)) <= 160 / 8  # the early-stopping resolution
    assert {1, 2, 4} <= set(steps)  # the geometric start


def test_eval_steps_dense_start_and_even_tail():
    steps = np.array(eval_steps(400, 40, even=10))
    assert steps[-1] == 400 and max(np.diff(steps)) <= 400 / 10  # the even tail
    early = steps[(steps >= 8) & (steps <= 200)]
    assert max(early[1:] / early[:-1]) <= 400 ** (1 / 39) + 0.15  # one geometric ratio, up to rounding
    # below 1 / (ratio - 1) = 6 consecutive geometric points are under one step apart: every step is evaluated
    assert set(range(1, 6)) <= set(steps.tolist()) and len(steps) <= 50


def _synthetic_points(law: ForgettingLaw, noise: float = 0.0) -> pl.DataFrame:
    N, D, p = (v.ravel() for v in np.meshgrid([8e3, 3e4, 7e4, 1.3e5], [2048, 8192, 32768],
                                               [0.0, 0.001, 0.005, 0.01, 0.05]))
    before = 5.0 - 0.1 * np.log10(N)
    F = law.forgetting(N, D, p, before) * np.exp(np.random.default_rng(0).normal(0, noise, N.shape))
    return pl.DataFrame({"params": N, "target_tokens": D, "p": p, "before": before, "forgetting": F})


@pytest.mark.parametrize("variant", ["additive", "multiplicative"])
def test_forgetting_law_fit_recovers_known_parameters(variant):
    truth = ForgettingLaw(variant, A=3.0, B=150.0, a=0.4, b=0.3)
    fit = fit_forgetting(_synthetic_points(truth), variant)
    for name in ("A", "B", "a", "b"):
        assert getattr(fit, name) == pytest.approx(getattr(truth, name), rel=1e-2)


def test_forgetting_law_formula():
    law = ForgettingLaw("multiplicative", A=2.0, B=100.0, a=0.5, b=0.25)
    # f = 2 * 16^0.25 / ((1 + 100 * 0.03) * 100)^0.5 = 2 * 2 / 20 = 0.2; F = before * f
    assert law.rate(100, 16, 0.03) == pytest.approx(0.2)
    assert law.forgetting(100, 16, 0.03, before=4.0) == pytest.approx(0.8)
    assert ForgettingLaw("additive", 2.0, 100.0, 0.5, 0.25).forgetting(100, 16, 0.03, 4.0) == pytest.approx(0.2)


def test_forgetting_law_refuses_unknown_variant_and_non_positive_points():
    points = _synthetic_points(ForgettingLaw("additive", 3.0, 150.0, 0.4, 0.3))
    with pytest.raises(ValueError, match="'ratio'; valid: additive, multiplicative"):
        fit_forgetting(points, "ratio")
    with pytest.raises(ValueError, match="positive"):
        fit_forgetting(points.with_columns(forgetting=pl.col("forgetting") - 1.0), "additive")


def _trajectory(width, p, pretrain, target, domain="code", tokens=2048):
    steps = [0, 1, 4, 16, 64]
    return pl.DataFrame({"step": steps, "pretrain_loss": pretrain, "target_loss": target}).with_columns(
        width=pl.lit(width), params=pl.lit(width * 1000), domain=pl.lit(domain), target_tokens=pl.lit(tokens),
        p=pl.lit(p), forgetting=pl.Series(pretrain) - pretrain[0])


def test_summary_picks_the_early_stopped_checkpoint():
    traj = _trajectory(16, 0.0, [4.0, 4.1, 4.3, 4.8, 5.5], [6.0, 5.5, 5.0, 5.2, 6.5])
    row = summarise(traj).row(0, named=True)
    assert row["best_step"] == 4 and row["target_best"] == 5.0
    assert row["forgetting"] == pytest.approx(0.3) and row["forgetting_end"] == pytest.approx(1.5)
    assert row["before"] == 4.0 and row["target_before"] == 6.0


def test_continuous_early_stop_finds_the_vertex_between_steps():
    """Target loss exactly quadratic in log(step) with its vertex at s = 7.3 (between evaluated steps):
    s* is the vertex, and the forgetting at s* is interpolated linearly in log(step) between steps 7 and 8."""
    steps = np.arange(1, 21)
    target = 3.0 + 0.5 * (np.log(steps) - np.log(7.3)) ** 2
    forgetting = steps.astype(float) ** 2
    s_star, f_star = continuous_early_stop(steps, target, forgetting)
    assert s_star == pytest.approx(7.3)
    w = (np.log(7.3) - np.log(7)) / (np.log(8) - np.log(7))
    assert f_star == pytest.approx(49 + w * (64 - 49))


def test_continuous_early_stop_uses_only_the_points_around_the_minimum():
    steps = np.arange(1, 41)
    target = 3.0 + 0.5 * (np.log(steps) - np.log(9.6)) ** 2
    target[steps >= 16] += 5.0  # far from the minimum (steps 7-13 are the window): ignored
    target[0] -= 0.1  # step 1 is not the minimum, stays outside the window
    forgetting = 0.1 + 0.2 * np.log(steps)  # linear in log(step): exact at s*
    s_star, f_star = continuous_early_stop(steps, target, forgetting, half=3)
    assert s_star == pytest.approx(9.6)
    assert f_star == pytest.approx(0.1 + 0.2 * np.log(9.6))


def test_continuous_early_stop_falls_back_to_the_lowest_step():
    steps = np.array([1, 2, 4, 8, 16])
    falling = np.array([5.0, 4.0, 3.5, 3.2, 3.1])  # still falling: the vertex would lie beyond step 16
    assert continuous_early_stop(steps, falling, [0.1, 0.2, 0.3, 0.4, 0.5]) == pytest.approx((16.0, 0.5))
    concave = np.array([1.0, 3.0, 0.9, 3.0, 1.0])  # lowest at step 4, yet the least-squares parabola is concave
    assert continuous_early_stop(steps, concave, [0.1, 0.2, 0.3, 0.4, 0.5]) == pytest.approx((4.0, 0.3))
    with pytest.raises(ValueError, match="increasing"):
        continuous_early_stop([1, 3, 2], [1.0, 0.5, 1.0], [0.0, 0.1, 0.2])


def test_summary_locates_the_continuous_early_stop_per_run():
    steps = np.arange(0, 21)
    target = np.r_[6.0, 3.0 + 0.5 * (np.log(steps[1:]) - np.log(5.5)) ** 2]
    pretrain = 4.0 + 0.01 * steps
    traj = pl.DataFrame({"step": steps, "pretrain_loss": pretrain, "target_loss": target}).with_columns(
        width=pl.lit(16), params=pl.lit(16000), domain=pl.lit("code"), target_tokens=pl.lit(512), p=pl.lit(0.0),
        forgetting=pl.Series(pretrain) - 4.0)
    row = summarise(traj).row(0, named=True)
    assert row["best_step"] == 6  # (log 6 - log 5.5)^2 < (log 5 - log 5.5)^2
    assert row["stop_step"] == pytest.approx(5.5)
    assert row["forgetting_stop"] == pytest.approx(0.05 + 0.01 * (np.log(5.5) - np.log(5)) / (np.log(6) - np.log(5)))


def test_law_point_is_the_early_stop_of_the_seed_mean_curves():
    """Two seeds whose target losses are parabolas in log(step) with vertices at 5 and 7: their mean
    is a parabola with its vertex at sqrt(35), where the forgetting (log step) is log(35) / 2. Steps
    only one seed evaluated (the other stopped earlier) are left out of the mean."""
    rows = []
    for seed, vertex, last in ((0, 5.0, 12), (1, 7.0, 14)):
        steps = np.arange(0, last + 1)
        logs = np.log(np.maximum(steps, 1))
        rows.append(pl.DataFrame({"step": steps, "pretrain_loss": 4.0 + logs,
                                  "target_loss": np.r_[9.0, 3.0 + (logs[1:] - np.log(vertex)) ** 2],
                                  "forgetting": logs}).with_columns(
            width=pl.lit(16), params=pl.lit(16000), domain=pl.lit("code"), target_tokens=pl.lit(512), p=pl.lit(0.0),
            seed=pl.lit(seed)))
    mean = seed_mean_curves(pl.concat(rows))
    assert mean["step"].to_list() == list(range(13)) and (mean["seeds"] == 2).all()
    stop = early_stops(mean.filter(pl.col("step") > 0)).row(0, named=True)
    assert stop["stop_step"] == pytest.approx(math.sqrt(35.0))
    assert stop["forgetting_stop"] == pytest.approx(math.log(35.0) / 2)


def test_trajectory_stalls_after_patience_evaluations_past_the_minimum():
    curve = Trajectory([1, 2, 3], {}, batch_size=1, patience=2)
    curve.rows = [{"target_loss": v} for v in (5.0, 4.0, 4.5)]
    assert not curve.stalled()
    curve.rows.append({"target_loss": 4.2})
    assert curve.stalled()
    curve.rows.append({"target_loss": 3.9})  # a new minimum: patience starts again
    assert not curve.stalled()
    assert not Trajectory([1], {}, batch_size=1).stalled()  # no patience: never stops
    with pytest.raises(ValueError, match="patience=0"):
        Trajectory([1], {}, batch_size=1, patience=0)


def test_injection_knee_is_the_share_of_forgetting_removed():
    trajs = [_trajectory(16, 0.0, [4.0, 4.1, 4.3, 4.8, 5.0], [6.0, 5.5, 5.0, 5.2, 6.5]),
             _trajectory(16, 0.01, [4.0, 4.1, 4.2, 4.2, 4.2], [6.0, 5.5, 5.05, 5.2, 6.4])]
    knee = injection_knee(summarise(pl.concat(trajs)))
    at_1 = knee.filter(pl.col("p") == 0.01).row(0, named=True)
    assert at_1["removed_end"] == pytest.approx(1 - 0.2 / 1.0)  # 0.2 nats left of 1.0
    assert at_1["target_change"] == pytest.approx(5.05 / 5.0 - 1)
    by_width = injection_knee(summarise(pl.concat(trajs)), by=("width",))
    assert by_width["width"].to_list() == [16, 16] and by_width["removed_end"][1] == pytest.approx(0.8)


def test_u_curve_depth_is_the_smaller_of_fall_and_rise():
    traj = pl.concat([_trajectory(16, 0.0, [4.0] * 5, [6.0, 5.5, 5.0, 5.2, 5.3]),  # fall 1.0, rise 0.3
                      _trajectory(32, 0.0, [4.0] * 5, [6.0, 5.9, 5.8, 5.7, 5.6])])  # falls only: 0
    assert u_curve_depth(traj) == pytest.approx(0.0)
    assert u_curve_depth(traj.filter(pl.col("width") == 16)) == pytest.approx(0.3)


def test_presets_hold_out_one_of_their_widths():
    for name in ("smoke", "cpu", "gpu"):
        cfg = Config.preset(name)
        assert cfg.heldout_width in cfg.widths
        assert not set(cfg.targets) & set(cfg.pretrain_domains)
        assert all(w % cfg.head_dim == 0 for w in cfg.widths)


def test_mup_sizes_scale_hidden_lr_from_the_base_width():
    """muP: hidden-matrix LR scales like base_width / width, the embedding LR does not."""
    cfg = Config.preset("smoke")
    for width in cfg.widths:
        lrs = {g["role"]: g["lr"] for g in param_groups(build_model(cfg, width, vocab_size=64), lr=1.0)}
        assert lrs["attention"] == pytest.approx(cfg.base_width / width)
        assert lrs["mlp"] == pytest.approx(cfg.base_width / width)
        assert lrs["embedding"] == pytest.approx(1.0)


def test_pretraining_budget_is_tokens_per_parameter():
    """Each size pretrains on pretrain_tokens_per_param tokens per non-embedding parameter."""
    cfg = Config.preset("cpu")
    tokens_per_step = cfg.pretrain_batch * cfg.seq_len
    steps = [pretrain_steps(cfg, w) for w in cfg.widths]
    for width, n_steps in zip(cfg.widths, steps):
        n_params = build_model(cfg, width, cfg.vocab_size).num_params()
        assert abs(n_steps * tokens_per_step - cfg.pretrain_tokens_per_param * n_params) <= tokens_per_step / 2
    assert steps == sorted(steps) and len(set(steps)) == len(steps)  # larger models train longer
    assert pretrain_steps(cfg.override(pretrain_tokens_per_param=40.0), 64) == pytest.approx(2 * steps[-1], abs=1)
