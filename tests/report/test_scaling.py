"""The Chinchilla-form fit recovers a known law and predicts held-out points."""

import numpy as np
import pytest

from atelier.report.scaling import fit_log_law, fit_scaling_law, relative_error

TRUE = dict(E=1.7, A=400.0, alpha=0.34, B=410.0, beta=0.28)


def law(N, D):
    return TRUE["E"] + TRUE["A"] / N ** TRUE["alpha"] + TRUE["B"] / D ** TRUE["beta"]


def grid():
    N, D = np.meshgrid(np.geomspace(1e5, 1e8, 5), np.geomspace(1e6, 1e9, 5))
    return N.ravel(), D.ravel()


def test_noiseless_fit_recovers_the_parameters():
    N, D = grid()
    fit = fit_scaling_law(N, D, law(N, D))
    assert fit.E == pytest.approx(TRUE["E"], rel=0.02)
    assert fit.alpha == pytest.approx(TRUE["alpha"], rel=0.05)
    assert fit.beta == pytest.approx(TRUE["beta"], rel=0.05)


def test_noisy_fit_predicts_held_out_larger_models():
    rng = np.random.default_rng(0)
    N, D = grid()
    L = law(N, D) * np.exp(rng.normal(0, 0.005, N.shape))
    train = N < N.max()
    fit = fit_scaling_law(N[train], D[train], L[train])
    err = relative_error(fit, N[~train], D[~train], law(N[~train], D[~train]))
    assert err.max() < 0.02


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=">= 5 points"):
        fit_scaling_law([1, 2], [1, 2], [1, 2])
    with pytest.raises(ValueError, match="positive"):
        fit_scaling_law([1, 2, 3, 4, -5], [1] * 5, [1] * 5)


def test_fit_log_law_recovers_a_product_power_law():
    """y = A D^b / ((1 + B p) N)^a on a grid, noiseless: the generic fitter finds A, B, a, b."""
    N, D, p = (v.ravel() for v in np.meshgrid([1e4, 3e4, 1e5, 3e5], [1e3, 1e4, 1e5], [0.0, 0.01, 0.05]))
    y = 2.0 * D**0.3 / ((1 + 80.0 * p) * N) ** 0.5

    def log_law(t):
        return t["logA"] + t["b"] * np.log(D) - t["a"] * (np.log1p(np.exp(t["logB"]) * p) + np.log(N))

    fit = fit_log_law(log_law, y, {"logA": [0.0, 3.0], "logB": [0.0, 5.0], "a": [0.2, 1.0], "b": [0.2, 1.0]},
                      bounds={"a": (0.0, 3.0), "b": (0.0, 3.0)})
    assert np.exp(fit.params["logA"]) == pytest.approx(2.0, rel=1e-3)
    assert np.exp(fit.params["logB"]) == pytest.approx(80.0, rel=1e-3)
    assert fit.params["a"] == pytest.approx(0.5, rel=1e-3)
    assert fit.params["b"] == pytest.approx(0.3, rel=1e-3)


def test_fit_log_law_refuses_non_positive_observations():
    with pytest.raises(ValueError, match="positive"):
        fit_log_law(lambda t: np.zeros(2) + t["c"], [1.0, -1.0], {"c": [0.0]})
