"""Gaussian moment ODEs of study 10 against the particle system and closed-form solutions."""

import math

import pytest
import torch

from atelier.studies.transformer_pde.attention import Attention, all_variants
from atelier.studies.transformer_pde.gaussian_ode import integrate_moments, moments_rhs, psd_project
from atelier.studies.transformer_pde.metrics import mean_and_covariance

F64 = torch.float64


def layers(seed=0, d=2, score=0.6):
    gen = torch.Generator().manual_seed(seed)
    Q, K, V = (torch.randn(d, d, generator=gen, dtype=F64) for _ in range(3))
    root = math.sqrt(score / torch.linalg.matrix_norm(K.T @ Q / math.sqrt(d), ord=2))
    return all_variants(Q * root, K * root, V, heads=2)


@pytest.mark.parametrize("kind", ["softmax", "l2", "multihead"])
def test_rhs_equals_particle_moment_derivatives(kind):
    """For a large Gaussian cloud, the mean of the particle velocities and the derivative of the
    empirical covariance, (1/n) sum (Gamma_i - mean Gamma)(x_i - mean x)^T + transpose, are
    Monte-Carlo estimates of a' and S'; the ODE is evaluated at the cloud's own moments."""
    layer = layers()[kind]
    gen = torch.Generator().manual_seed(1)
    root = torch.tensor([[1.0, 0.0], [0.4, 0.6]], dtype=F64)
    x = torch.tensor([0.4, -0.3], dtype=F64) + torch.randn(4000, 2, generator=gen, dtype=F64) @ root.T
    gamma = layer.velocity(x)
    a, S = mean_and_covariance(x)
    da_mc = gamma.mean(0)
    cross = (gamma - da_mc).T @ (x - a) / len(x)
    dS_mc = cross + cross.T
    da, dS = moments_rhs(layer, a, S)
    # Monte-Carlo error with 4000 tokens: a few percent (measured up to 4.6% over seeds)
    assert (da - da_mc).norm() < 0.08 * da.norm()
    assert (dS - dS_mc).norm() < 0.06 * dS.norm()
    # the transposed convention (scores <A^T x, y>) is far off: the test can tell them apart
    swapped = Attention(kind, layer.K, layer.Q, layer.V, layer.W) if kind != "l2" else None
    if swapped is not None:
        assert (moments_rhs(swapped, a, S)[1] - dS_mc).norm() > 0.2 * dS.norm()


def test_l2_reduces_to_softmax_for_vanishing_keys():
    """With K -> eps K and Q -> Q / eps the L2 score tends to 2 <A x, y>: softmax with A doubled."""
    layer = layers()["l2"]
    eps = 1e-4
    l2 = Attention("l2", layer.Q / eps, layer.K * eps, layer.V)
    doubled = Attention("softmax", 2 * layer.Q, layer.K, layer.V)
    S = torch.tensor([[1.0, 0.2], [0.2, 0.5]], dtype=F64)
    a = torch.tensor([0.3, 0.1], dtype=F64)
    for got, want in zip(moments_rhs(l2, a, S), moments_rhs(doubled, a, S)):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)


def test_identity_values_match_closed_form():
    """V = I: P = S^-1 solves P' = -(A + A^T), so S(t) = (S0^-1 - t (A + A^T))^-1."""
    layer = layers(seed=3)["softmax"]
    layer = Attention("softmax", layer.Q, layer.K, torch.eye(2, dtype=F64))
    A = layer.K.T @ layer.Q / math.sqrt(2)
    S0 = torch.tensor([[0.5, 0.1], [0.1, 0.3]], dtype=F64)
    times, _, S = integrate_moments(layer, torch.zeros(2, dtype=F64), S0, 0.5, 200, save_every=50)
    for t, St in zip(times, S):
        torch.testing.assert_close(St, torch.linalg.inv(torch.linalg.inv(S0) - t * (A + A.T)), rtol=1e-7, atol=1e-9)


def test_batched_covariances_integrate_independently():
    layer = layers()["multihead"]
    S0 = torch.stack([torch.eye(2, dtype=F64), torch.tensor([[0.5, 0.1], [0.1, 0.3]], dtype=F64)])
    a0 = torch.zeros(2, 2, dtype=F64)
    _, _, batched = integrate_moments(layer, a0, S0, 0.3, 10)
    for i in range(2):
        torch.testing.assert_close(batched[:, i], integrate_moments(layer, a0[i], S0[i], 0.3, 10)[2])


def test_psd_projection_is_the_moreau_decomposition():
    gen = torch.Generator().manual_seed(4)
    M = torch.randn(5, 4, 4, generator=gen, dtype=F64)
    S = M + M.mT  # symmetric, indefinite
    P = psd_project(S)
    residual = S - P
    assert torch.linalg.eigvalsh(P).min() > -1e-12
    assert torch.linalg.eigvalsh(residual).max() < 1e-12  # S - P(S) is negative semi-definite
    assert (P * residual).sum((-1, -2)).abs().max() < 1e-10  # and orthogonal to P(S)
    psd = M @ M.mT
    torch.testing.assert_close(psd_project(psd), psd)


def test_no_closed_form_for_sinkhorn():
    layer = layers()["sinkhorn"]
    with pytest.raises(ValueError, match="valid: softmax, l2, multihead"):
        moments_rhs(layer, torch.zeros(2, dtype=F64), torch.eye(2, dtype=F64))
