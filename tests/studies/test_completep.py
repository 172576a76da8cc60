"""Study 03 (CompleteP): the optimum fit, the search, the coordinate-check spread, the model and
training settings, each checked against a formula or a constructed case."""

import math

import numpy as np
import polars as pl
import pytest
import torch

from atelier.nn import param_groups
from atelier.studies.completep import (
    SEARCH_SPACE, Config, bootstrap_intervals, bootstrap_optima, build_model, drift, fit_optimum, longest_run,
    measure_curve, multipliers, optima, sizes, spread, steps_to_reach, sweep_settings, train_config,
    trust_region_search,
)

GRID = np.arange(-9.0, -2.0)  # log2 LRs, 1-octave spacing


def test_fit_optimum_recovers_the_vertex_of_a_parabola_between_grid_points():
    best = fit_optimum(GRID, 0.3 * (GRID + 5.4) ** 2 + 4.0)
    assert best.log2_lr == pytest.approx(-5.4)
    assert best.loss == pytest.approx(4.0)
    assert best.bracketed


def test_fit_optimum_uses_only_the_points_around_the_minimum():
    # exact parabola near the minimum, a wall far to the left that a global fit would chase
    losses = (GRID + 4.2) ** 2
    losses[0] = 100.0
    assert fit_optimum(GRID, losses).log2_lr == pytest.approx(-4.2)


def test_fit_optimum_drops_diverged_runs_and_flags_an_unbracketed_minimum():
    losses = np.array([3.0, 2.5, 2.0, 1.8, 1.7, math.nan, math.inf])  # decreasing until divergence
    best = fit_optimum(GRID, losses)
    assert not best.bracketed  # the best finite point is the last finite one
    assert GRID[2] <= best.log2_lr <= GRID[4]  # clipped to the fitted window


def test_optima_and_drift_per_curve():
    rows = [{"param": p, "width": w, "log2_lr": x, "loss": (x - c) ** 2}
            for p, centres in {"A": {16: -4.0, 64: -4.3}, "B": {16: -4.0, 64: -6.5}}.items()
            for w, c in centres.items() for x in GRID]
    got = drift(optima(pl.DataFrame(rows), ["param", "width"]), "param").sort("param")
    assert got["drift_log2"].to_list() == pytest.approx([0.3, 2.5])
    assert got["all_bracketed"].all()


def test_trust_region_search_improves_a_quadratic_and_never_accepts_a_worse_point():
    target = np.linspace(-0.5, 0.5, len(SEARCH_SPACE))

    def loss(x):
        return float(sum((v - t) ** 2 for v, t in zip(x.values(), target)))

    result = trust_region_search(loss, SEARCH_SPACE, rounds=20, candidates=6, radius=1.0, seed=0)
    assert result.best_loss < loss(dict.fromkeys(SEARCH_SPACE, 0.0))
    assert result.best_loss == pytest.approx(loss(result.best))
    accepted = result.history.filter(pl.col("accepted"))["loss"].to_numpy()
    assert np.all(np.diff(accepted) < 0)  # every accepted point beats the previous incumbent


def test_trust_region_halves_its_radius_after_each_round_without_improvement():
    # the start (all zeros) is the global minimum, so no round can improve
    result = trust_region_search(lambda x: sum(v * v for v in x.values()), SEARCH_SPACE, rounds=4, candidates=3,
                                 radius=1.0, seed=1)
    radii = result.history.filter(pl.col("round") > 0).group_by("round").agg(pl.col("radius").first()).sort("round")
    assert radii["radius"].to_list() == [1.0, 0.5, 0.25, 0.125]
    assert all(v == 0.0 for v in result.best.values())


def test_search_knobs_become_parameterisation_multipliers():
    assert multipliers({("mlp", "lr"): 1.0, ("mlp", "init"): -2.0, ("residual", "mult"): 0.5}) == {
        "mlp": {"lr": 2.0, "init": 0.25}, "residual": {"mult": math.sqrt(2.0)}}


def test_steps_to_reach_interpolates_linearly_between_validations():
    curve = pl.DataFrame({"step": [10, 20, 30, 40], "val_loss": [5.0, 4.0, 3.0, 2.5]})
    assert steps_to_reach(curve, 3.5) == pytest.approx(25.0)
    assert math.isnan(steps_to_reach(curve, 2.0))


def test_spread_compares_step_averaged_rms_over_sizes():
    # layer "a" scales with width (1x, 1.5x, 3x at every step); layer "b" oscillates in step but not in width
    rows = [{"param": "P", "axis": "width", "width": w, "depth": 2, "layer": layer, "step": s, "rms": v}
            for w, scale in ((32, 1.0), (64, 1.5), (128, 3.0)) for s in (0, 1, 2)
            for layer, v in (("a", scale * (s + 1)), ("b", (1.0 if (s + w // 32) % 2 else 2.0) if s else 9.0))]
    got = spread(pl.DataFrame(rows), "width")
    assert got["max_ratio"][0] == pytest.approx(3.0)  # "a"; the init step (0) never counts
    assert got["worst_layer"][0] == "a"
    assert got["max_ratio_last"][0] == pytest.approx(3.0)


def test_spread_ignores_the_phase_of_an_oscillation():
    rows = [{"param": "P", "axis": "width", "width": w, "depth": 2, "layer": "b", "step": s,
             "rms": 2.0 if (s + w // 32) % 2 else 1.0} for w in (32, 64) for s in (0, 1, 2)]
    got = spread(pl.DataFrame(rows), "width")
    assert got["max_ratio"][0] == pytest.approx(1.0)
    assert got["max_ratio_last"][0] == pytest.approx(2.0)


def test_models_share_the_unit_embedding_and_scale_hidden_init_like_one_over_sqrt_width():
    cfg = Config.preset("smoke")
    model = build_model(cfg, 512, "completep", 128, 2, seed=0)  # m_w = 128 / 32 = 4
    assert model.tok_emb.weight.std().item() == pytest.approx(cfg.embedding_std, rel=0.05)
    assert model.blocks[0].mlp.up.weight.std().item() == pytest.approx(cfg.init_std / 2, rel=0.05)
    assert model.output_scale == pytest.approx(1 / 4)
    sp = build_model(cfg, 512, "sp", 128, 2, seed=0)
    assert sp.blocks[0].mlp.up.weight.std().item() == pytest.approx(cfg.init_std, rel=0.05)
    assert sp.cfg.n_heads == 128 // cfg.head_dim


def test_hidden_lr_scales_only_the_attention_and_mlp_learning_rates():
    cfg = Config.preset("smoke")

    def lrs(hidden_lr, kind):
        model = build_model(cfg.override(hidden_lr=hidden_lr), 512, kind, 64, 2, seed=0)
        return {g["role"]: g["lr"] for g in param_groups(model, lr=1e-2)}

    for kind in ("sp", "completep"):
        base, low = lrs(1.0, kind), lrs(0.25, kind)
        assert set(base) == set(low)
        for role in base:
            expected = 0.25 if role in ("attention", "mlp") else 1.0
            assert low[role] == pytest.approx(expected * base[role]), role


def test_same_seed_same_model():
    cfg = Config.preset("smoke")
    a, b = (build_model(cfg, 512, "mup", 32, 2, seed=3) for _ in range(2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_train_config_moves_batch_size_by_the_sde_rule():
    cfg = Config.preset("smoke").override(steps=120)
    base, big = train_config(cfg, -5.0, seed=0), train_config(cfg, -5.0, seed=0, batch_factor=4.0)
    assert big.lr == pytest.approx(2.0 ** -5 * 2.0)
    assert big.steps == 30 and big.warmup_steps == round(base.warmup_steps / 4)
    assert big.betas == pytest.approx((1 - 0.1 * 4, 1 - 0.05 * 4))
    assert big.eps == pytest.approx(base.eps / 2) and big.weight_decay == pytest.approx(base.weight_decay * 2)


def test_sizes_and_config_validation():
    cfg = Config()
    assert sizes(cfg, "width") == [(w, cfg.base_depth) for w in cfg.sweep_widths]
    assert sizes(cfg, "depth") == [(cfg.base_width, d) for d in cfg.sweep_depths]
    with pytest.raises(ValueError, match="axis='batch'"):
        sizes(cfg, "batch")
    with pytest.raises(ValueError, match="target 96x2"):
        cfg.override(target_width=96)
    with pytest.raises(ValueError, match="kind='ntk'"):
        build_model(cfg, 512, "ntk", 32, 2, seed=0)


def test_lr_sweep_refines_each_curve_around_its_coarse_minimum(monkeypatch):
    import atelier.studies.completep.sweeps as sweeps
    import atelier.studies.completep.training as training
    from atelier.studies.completep.training import RunResult

    centre = {"sp": -7.0, "completep": -4.5}  # the optimum of each fake loss curve

    def fake_run(model, config, datamodule, name):
        kind = name.split("-")[1]
        return RunResult(loss=(math.log2(config.lr) - centre[kind]) ** 2, metrics=pl.DataFrame())

    class Data:
        class tokenizer:
            vocab_size = 64

    monkeypatch.setattr(training, "train_run", fake_run)
    cfg = Config.preset("smoke").override(sweep_widths=(16, 32), log2_lrs=(-9.0, -7.5, -6.0, -4.5, -3.0),
                                          refine_offsets=(-0.75, 0.75))
    sweep = sweeps.lr_sweep(cfg, Data, "width", seed=0)
    sp = sweep.filter((pl.col("kind") == "sp") & (pl.col("width") == 16))["log2_lr"].to_list()
    assert sp == [-9.0, -8.25, -7.5, -6.75, -6.0, -4.5, -3.0]  # refined around the coarse minimum -7.5
    got = optima(sweep, ["param", "width"])
    assert got.filter(pl.col("param") == "SP")["opt_log2_lr"].to_list() == pytest.approx([-7.0, -7.0])
    assert got.filter(pl.col("param") == "CompleteP")["opt_log2_lr"].to_list() == pytest.approx([-4.5, -4.5])
    only = sweeps.lr_sweep(cfg, Data, "width", seed=0, kinds=("completep",))
    assert only["kind"].unique().to_list() == ["completep"]
    assert only.equals(sweep.filter(pl.col("kind") == "completep"))


def test_global_only_sweeps_one_lr_for_every_module_at_the_proxy_and_target_widths(monkeypatch):
    import atelier.studies.completep.training as training
    from atelier.studies.completep import global_only
    from atelier.studies.completep.training import RunResult

    seen = []

    def fake_run(model, config, datamodule, name):  # loss minimal at log2 LR = -5 - log2(width / 32)
        width = model.cfg.width
        seen.append((width, {g["role"]: g["lr"] for g in param_groups(model, lr=1.0)}))
        return RunResult(loss=(math.log2(config.lr) + 5 + math.log2(width / 32)) ** 2, metrics=pl.DataFrame())

    class Data:
        class tokenizer:
            vocab_size = 64

    monkeypatch.setattr(training, "train_run", fake_run)
    cfg = Config.preset("smoke").override(target_width=64, sweep_widths=(16, 32, 64), log2_lrs=(-8.0, -6.0, -4.0),
                                          refine_offsets=(-0.5, 0.5))
    single, sweep, base_lr, target_lr = global_only(cfg, Data, seed=0)
    assert single.hidden_lr == 1.0 and sweep["kind"].unique().to_list() == ["completep"]
    assert sorted(sweep["width"].unique().to_list()) == [32, 64]
    assert (base_lr, target_lr) == (pytest.approx(-5.0), pytest.approx(-6.0))
    for width, lrs in seen:  # hidden matrices at the embeddings' LR but for the width rule (1 / m_w)
        assert lrs["attention"] == pytest.approx(lrs["embedding"] * 32 / width)


def test_measure_curve_extends_past_an_edge_minimum_then_refines():
    calls = []

    def loss(x):
        calls.append(x)
        return (x + 2.4) ** 2 if x < 0 else math.nan  # optimum above the grid; LR >= 1 diverges

    curve = measure_curve(loss, (-9.0, -7.5, -6.0, -4.5, -3.0), max_extensions=2, refine_offsets=(-0.75, 0.75))
    assert calls[5:] == [-1.5, -3.75, -2.25]  # one extension brackets the minimum (-3), then refine around it
    assert list(curve) == sorted(curve)
    best = fit_optimum(list(curve), list(curve.values()))
    assert best.bracketed and best.log2_lr == pytest.approx(-2.4)


def test_measure_curve_stops_extending_after_max_extensions():
    curve = measure_curve(lambda x: -x, (-3.0, -2.0), max_extensions=3, refine_offsets=())
    assert list(curve) == [-3.0, -2.0, -1.0, 0.0, 1.0]


def test_mean_loss_averages_initialisations_and_propagates_divergence(monkeypatch):
    import atelier.studies.completep.training as training
    from atelier.studies.completep.training import RunResult, mean_loss

    cfg = Config.preset("smoke").override(seeds=3)
    per_seed = {10: 4.0, 11: 5.0, 12: 9.0}
    monkeypatch.setattr(training, "train_run",
                        lambda model, config, dm, name: RunResult(per_seed[model], pl.DataFrame()))
    config = train_config(cfg, -5.0, seed=10)
    assert mean_loss(cfg, lambda s: s, config, None, "x") == pytest.approx(6.0)
    per_seed[12] = math.nan
    assert math.isnan(mean_loss(cfg, lambda s: s, config, None, "x"))


def _seeded_curves(optima_by_size: dict[int, list[float]]) -> pl.DataFrame:
    """A depth sweep whose seed i has the exact parabola (x - optima[i])^2 + 5 at every size."""
    return pl.DataFrame([{"param": "P", "depth": d, "log2_lr": x, "seed_losses": [(x - c) ** 2 + 5.0 for c in cs]}
                         for d, cs in optima_by_size.items() for x in np.arange(-6.0, -0.5, 0.5)])


def test_bootstrap_resamples_the_seeds_of_every_curve_jointly():
    # seed 0 peaks at -4 and seed 1 at -3 at both depths: the optimum of the resampled mean is -4, -3.5 or
    # -3, but the two depths always agree (the same seeds are drawn for both), so the drift is exactly 0
    boot = bootstrap_optima(_seeded_curves({2: [-4.0, -3.0], 8: [-4.0, -3.0]}), ["param", "depth"], 400, seed=0)
    assert set(np.round(boot["opt_log2_lr"].to_numpy(), 6)) == {-4.0, -3.5, -3.0}
    optima_ci, drift_ci = bootstrap_intervals(boot, "param", "depth")
    assert optima_ci["opt_lo"].to_list() == pytest.approx([-4.0, -4.0])
    assert optima_ci["opt_hi"].to_list() == pytest.approx([-3.0, -3.0])
    assert drift_ci["drift_lo"][0] == pytest.approx(0.0) and drift_ci["drift_hi"][0] == pytest.approx(0.0)


def test_bootstrap_drift_of_seed_independent_curves_is_their_distance():
    boot = bootstrap_optima(_seeded_curves({2: [-4.2, -4.2, -4.2], 8: [-3.5, -3.5, -3.5]}), ["param", "depth"], 50, 1)
    _, drift_ci = bootstrap_intervals(boot, "param", "depth")
    assert drift_ci["drift_lo"][0] == pytest.approx(0.7) and drift_ci["drift_hi"][0] == pytest.approx(0.7)


def test_depth_sweep_settings_and_data_cover_the_longest_run():
    cfg = Config()
    assert sweep_settings(cfg, "width", "sp") == (cfg.log2_lrs, cfg.refine_offsets, cfg.steps, cfg.seeds)
    assert sweep_settings(cfg, "depth", "completep") == (cfg.depth_log2_lrs, cfg.depth_refine_offsets,
                                                         cfg.depth_steps, cfg.seeds)
    assert sweep_settings(cfg, "depth", "mup")[3] == cfg.contrast_seeds
    assert longest_run(cfg.override(depth_steps=100, steps=120, duration_factors=(0.5, 2.0))) == 240
    assert longest_run(cfg.override(depth_steps=500, steps=120, duration_factors=(0.5, 2.0))) == 500
