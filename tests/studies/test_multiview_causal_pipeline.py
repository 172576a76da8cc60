"""Study 07: the EEG pipeline recovers region activity; Config and sweeps fail clearly on bad input."""

import numpy as np
import pytest

from atelier.studies.config import ConfigError
from atelier.studies.multiview_causal import Config, summarize, sweep
from atelier.studies.multiview_causal import eeg


def test_minimum_norm_region_time_courses_track_the_simulated_activity():
    rng = np.random.default_rng(0)
    model = eeg.build_model(rng, n_regions=4, grid_mm=25.0, region_radius_mm=25.0, snr=10.0)
    assert model.gain.shape == (94, 4) and len(model.names) == 4
    activity = rng.standard_normal((2, 4, 300))  # independent regions, two subjects
    estimate = eeg.region_time_courses(model, eeg.sensors(model, activity, rng), snr=10.0)
    assert estimate.shape == activity.shape
    for subject in range(2):
        corr = np.corrcoef(estimate[subject], activity[subject])[:4, 4:]  # (estimated, true)
        assert np.all(np.diag(corr) > 0.8)  # each region is mostly its own activity
        assert np.all(np.argmax(np.abs(corr), axis=1) == np.arange(4))


def test_region_count_out_of_range_is_one_clear_error():
    with pytest.raises(ValueError, match="n_regions=9 must be between 2 and 8"):
        eeg.build_model(np.random.default_rng(0), n_regions=9)


def test_config_presets_and_bad_values():
    assert Config.preset("cpu") == Config()
    assert Config.preset("smoke").reps < Config().reps < Config.preset("gpu").reps
    with pytest.raises(ConfigError, match="valid fields"):
        Config().override(repetitions=3)
    with pytest.raises(ValueError, match="unknown methods \\['lingam'\\]; valid: limvam_shica_ml"):
        Config().override(methods=("lingam",))


def test_sweep_rows_and_summary_intervals():
    cfg = Config.preset("smoke").override(reps=3, gaussian_grid=(0, 4), methods=("limvam_shica_j",))
    df = sweep(cfg, "n_gaussian")
    assert df.height == 2 * 3 and set(df["value"]) == {0.0, 4.0}
    s = summarize(df).filter(metric="order_error")
    for row in s.iter_rows(named=True):
        group = df.filter(value=row["value"])["order_error"]
        assert row["mean"] == pytest.approx(group.mean())
        assert row["low"] <= row["mean"] <= row["high"]
    with pytest.raises(ValueError, match="unknown factor 'n'; valid: n_samples"):
        sweep(cfg, "n")


def test_claims_read_the_intended_rows():
    import polars as pl

    from atelier.studies.multiview_causal import METHODS, study_claims

    cfg = Config.preset("smoke")
    ml, lingam = METHODS["limvam_shica_ml"][0], METHODS["ica_lingam"][0]
    n_max = float(max(cfg.samples_grid))
    samples = pl.DataFrame({"method": [ml, ml, lingam], "value": [n_max, 200.0, n_max],
                            "order_error": [0.05, 0.9, 0.8]})
    equal = pl.DataFrame({"method": [ml, ml], "value": [0.0, float(cfg.n_views)], "order_error": [0.1, 0.9]})
    eeg_scores = pl.DataFrame({"method": [ml, ml], "f1": [0.9, 0.7], "chance_f1": [0.2, 0.3]})
    values = {c.name: c.value for c in study_claims(cfg, samples, equal, eeg_scores)}
    assert values == pytest.approx({"limvam_gaussian_order": 0.05, "lingam_gaussian_near_chance": 0.8,
                                    "equal_variances_break_limvam": 0.8, "eeg_edge_f1_above_chance": 0.55})


def test_multiviewica_is_left_out_with_a_reason_when_it_does_not_import(monkeypatch):
    from atelier.studies.multiview_causal import experiments

    monkeypatch.setattr(experiments, "multiviewica_status", lambda: "multiviewica does not import (test)")
    kept, note = experiments.runnable(("limvam_shica_ml", "limvam_multiviewica"))
    assert kept == ["limvam_shica_ml"] and "does not import (test)" in note


def test_config_lists_exactly_the_methods_the_experiments_run():
    from atelier.studies.multiview_causal.config import METHOD_NAMES
    from atelier.studies.multiview_causal.experiments import METHODS

    assert tuple(METHODS) == METHOD_NAMES
