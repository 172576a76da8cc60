"""Study 07: metrics, simulation, joint diagonalisation, ShICA and ICA-LiMVAM against references."""

import itertools
import math

import numpy as np
import pytest

from atelier.studies.multiview_causal import metrics, sem
from atelier.studies.multiview_causal.jointdiag import joint_diagonalize
from atelier.studies.multiview_causal.limvam import causal_order, ica_limvam, permute_rows, topological_order
from atelier.studies.multiview_causal.shica import _posterior, log_likelihood, shica_j, shica_ml


def test_amari_is_zero_for_a_scaled_permutation_and_positive_otherwise():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    scaled_perm = np.diag([2.0, -0.5, 3.0, 1.5]) @ np.eye(4)[[2, 0, 3, 1]]
    assert metrics.amari_distance(scaled_perm @ np.linalg.inv(A), A) == pytest.approx(0.0, abs=1e-12)
    assert metrics.amari_distance(rng.standard_normal((4, 4)), A) > 0.05


def test_amari_matches_a_hand_computed_case():
    # G = [[1, 1], [0, 1]]: each of the 4 row/column terms is 0 or 1, two are 1 -> 2 / (2 * 2 * 1)
    assert metrics.amari_distance(np.array([[1.0, 1.0], [0.0, 1.0]]), np.eye(2)) == pytest.approx(0.5)


def test_order_metrics_on_hand_cases():
    assert metrics.exact_order_error([0, 1, 2], [0, 1, 2]) == 0.0
    assert metrics.exact_order_error([1, 0, 2], [0, 1, 2]) == 1.0
    assert metrics.order_spearman([2, 1, 0], [0, 1, 2]) == pytest.approx(-1.0)
    assert metrics.order_spearman([0, 1, 2], [0, 1, 2]) == pytest.approx(1.0)
    chain = np.zeros((3, 3))
    chain[1, 0] = chain[2, 1] = 1.0  # 0 -> 1 -> 2
    assert metrics.order_violations([0, 1, 2], chain) == 0.0
    assert metrics.order_violations([2, 1, 0], chain) == 1.0
    assert metrics.order_violations([0, 2, 1], chain) == 0.5  # 1 -> 2 is put backwards
    assert metrics.chance_exact_order_error(4) == pytest.approx(1 - 1 / 24)
    assert list(metrics.consensus_order(np.array([[0, 1, 2], [0, 2, 1], [0, 1, 2]]))) == [0, 1, 2]


def test_edge_f1_on_a_hand_case():
    true = np.zeros((3, 3), dtype=bool)
    true[1, 0] = true[2, 1] = True
    est = np.zeros((3, 3), dtype=bool)
    est[1, 0] = est[0, 2] = True  # one hit, one false positive, one miss -> 2 * 1 / (2 + 2)
    assert metrics.edge_f1(est, true) == pytest.approx(0.5)


def test_chance_f1_of_random_dags_matches_its_expectation():
    # each of the k true edges is drawn with probability k / (p (p - 1)), so E[F1] = k / (p (p - 1))
    rng = np.random.default_rng(0)
    true = np.zeros((5, 5), dtype=bool)
    true[[1, 2, 3, 4, 4], [0, 0, 1, 2, 3]] = True
    assert metrics.chance_edge_f1(true, 4000, rng) == pytest.approx(5 / 20, abs=0.015)


@pytest.mark.parametrize("n_edges", [None, 3])
def test_simulated_effects_respect_the_causal_order(n_edges):
    rng = np.random.default_rng(1)
    s = sem.simulate(rng, n_views=3, n_vars=5, n_samples=50, n_gaussian=2, n_edges=n_edges)
    T = s.B[:, s.order][:, :, s.order]
    assert np.allclose(np.triu(T), 0.0)  # strictly lower triangular in the causal order
    assert np.allclose(np.linalg.matrix_power(s.B, 5), 0.0)  # acyclic: B is nilpotent
    support = np.any(s.B != 0, axis=0)
    assert support.sum() == (10 if n_edges is None else n_edges)
    assert np.all((s.B != 0) == support)  # the support is shared by the views
    # x_i = B_i x_i + e_i holds with e_i = s + n_i uncorrelated with the parents' noise terms
    E = s.X - s.B @ s.X
    assert np.allclose(np.linalg.inv(s.mixing) @ s.X, E)


def test_equal_variance_views_share_one_noise_level_on_gaussian_components():
    rng = np.random.default_rng(2)
    s = sem.simulate(rng, n_views=4, n_vars=4, n_samples=10, n_gaussian=3, n_equal=4)
    gauss = s.noise_std[:, s.gaussian]
    assert np.allclose(gauss, gauss[:, :1])
    with pytest.raises(ValueError, match="n_equal=5 must be between 0 and n_views=4"):
        sem.simulate(rng, n_views=4, n_vars=4, n_samples=10, n_gaussian=3, n_equal=5)


def test_joint_diagonalisation_recovers_exactly_jointly_diagonal_matrices():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((5, 5))
    D = rng.uniform(0.1, 2.0, size=(6, 5))
    C = np.einsum("ab,mb,cb->mac", A, D, A)  # C_i = A diag(D_i) A^T
    B = joint_diagonalize(C)
    assert metrics.amari_distance(B, A) < 1e-6
    off = (B @ C @ B.T) * (1 - np.eye(5))
    assert np.max(np.abs(off)) < 1e-6 * np.max(np.abs(B @ C @ B.T))


@pytest.mark.parametrize("estimator", [shica_j, shica_ml])
def test_shica_separates_gaussian_components_by_variance_diversity(estimator):
    rng = np.random.default_rng(4)
    s = sem.simulate(rng, n_views=4, n_vars=3, n_samples=5000, n_gaussian=3)
    W = estimator(s.X).W
    assert max(metrics.amari_distance(w, a) for w, a in zip(W, s.mixing)) < 0.05


def test_shica_ml_em_never_decreases_the_likelihood():
    rng = np.random.default_rng(5)
    s = sem.simulate(rng, n_views=3, n_vars=3, n_samples=800, n_gaussian=1)
    X = s.X - s.X.mean(axis=2, keepdims=True)
    start = shica_j(X)
    values = [log_likelihood(r.W, r.noise_var, X) for r in
              (shica_ml(X, max_iter=k, tol=-np.inf, init=start) for k in (1, 2, 5, 20))]
    assert all(b >= a - 1e-10 for a, b in zip(values, values[1:]))
    # the E-step's log-likelihood agrees with a direct sum over the mixture prior
    Y = start.W @ X
    direct = _mixture_log_lik_by_quadrature(Y[:, 0, :3], start.noise_var[:, 0])
    _, _, ll = _posterior(Y[:, :1, :3], start.noise_var[:, :1])
    assert ll == pytest.approx(direct, rel=1e-6)


def _mixture_log_lik_by_quadrature(y: np.ndarray, noise_var: np.ndarray) -> float:
    """mean_t log int p(s) prod_i N(y_it; s, Sigma_i) ds on a fine grid, p = 0.5 N(0, .5) + 0.5 N(0, 1.5)."""
    s = np.linspace(-12, 12, 200001)
    prior = sum(0.5 * np.exp(-s ** 2 / (2 * v)) / math.sqrt(2 * math.pi * v) for v in (0.5, 1.5))
    out = []
    for t in range(y.shape[1]):
        lik = np.prod([np.exp(-(y[i, t] - s) ** 2 / (2 * noise_var[i])) / math.sqrt(2 * math.pi * noise_var[i])
                       for i in range(len(noise_var))], axis=0)
        out.append(math.log(np.trapezoid(prior * lik, s)))
    return float(np.mean(out))


def test_topological_order_and_cycles():
    support = np.zeros((3, 3), dtype=bool)
    support[0, 2] = support[1, 0] = True  # 2 -> 0 -> 1
    assert list(topological_order(support)) == [2, 0, 1]
    support[2, 1] = True  # 1 -> 2 closes a cycle
    assert topological_order(support) is None


def test_causal_order_matches_brute_force_on_a_noisy_permuted_triangle():
    rng = np.random.default_rng(6)
    p = 5
    T = np.tril(rng.uniform(0.5, 1.0, size=(p, p)), k=-1)
    perm = rng.permutation(p)
    M = np.abs(T[np.argsort(perm)][:, np.argsort(perm)] + 0.01 * rng.standard_normal((p, p)))
    np.fill_diagonal(M, 0.0)
    # reference: the order whose upper triangle holds the least mass, over all p! orders
    best = min(itertools.permutations(range(p)), key=lambda o: np.triu(M[np.ix_(o, o)]).sum())
    assert list(causal_order(M)) == list(best) == list(perm)


def test_permute_rows_restores_a_shuffled_unit_diagonal():
    rng = np.random.default_rng(7)
    W = np.eye(4) + 0.2 * rng.standard_normal((3, 4, 4))
    shuffled = W[:, [3, 1, 0, 2]]
    assert np.allclose(permute_rows(shuffled), W)


def test_limvam_recovers_the_order_exactly_on_an_easy_case():
    for seed in range(2):
        rng = np.random.default_rng(10 + seed)
        s = sem.simulate(rng, n_views=5, n_vars=4, n_samples=3000, n_gaussian=4)
        for ica in ("shica_j", "shica_ml"):
            fit = ica_limvam(s.X, ica=ica)
            assert list(fit.orders[0]) == list(s.order)
            assert metrics.mse(fit.B, s.B) < 0.01
