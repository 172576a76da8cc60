"""The Chinchilla-form fit recovers a known law and predicts held-out points."""

import numpy as np
import pytest

from atelier.report.scaling import fit_scaling_law, relative_error

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
