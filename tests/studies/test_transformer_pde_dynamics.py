"""Particle integrator and covariance regimes of study 10 against closed-form solutions."""

import math

import pytest
import torch

from atelier.studies.transformer_pde import Config
from atelier.studies.transformer_pde.attention import Attention
from atelier.studies.transformer_pde.particles import simulate
from atelier.studies.transformer_pde.regimes import (
    blowup_time, cone_grid, evolve, isotropic_directions, line_assignment, regime_attention, score_matrix, signature,
)

F64 = torch.float64


def test_rk4_follows_a_linear_flow():
    M = torch.tensor([[0.0, 1.0], [-1.0, -0.1]], dtype=F64)
    x0 = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=F64)
    times, frames = simulate(lambda x: x @ M.T, x0, 2.0, 100, save_every=25)
    assert len(times) == 5
    for t, x in zip(times, frames):
        torch.testing.assert_close(x, x0 @ torch.linalg.matrix_exp(t * M).T, rtol=1e-7, atol=1e-9)


def test_sphere_dynamics_stay_on_the_sphere():
    x0 = torch.randn(16, 3, generator=torch.Generator().manual_seed(0), dtype=F64)
    layer = Attention("causal", 2 * torch.eye(3, dtype=F64), 2 * torch.eye(3, dtype=F64), torch.eye(3, dtype=F64))
    _, frames = simulate(layer.velocity, x0, 1.0, 20, sphere=True)
    torch.testing.assert_close(frames.norm(dim=-1), torch.ones(21, 16, dtype=F64))
    torch.testing.assert_close(frames[-1, 0], frames[0, 0])  # the first token only sees itself


def test_invalid_method():
    with pytest.raises(ValueError, match="valid: euler, rk4"):
        simulate(lambda x: x, torch.zeros(2, 2), 1.0, 2, method="midpoint")


def test_rank_one_regime_matches_closed_form():
    """Q = q, K = -q, V = I: S(t) = (S0^-1 + 2t q^T q / sqrt d)^-1."""
    attn = regime_attention("rank_one", torch.Generator().manual_seed(0))
    q = attn.Q
    S0 = cone_grid(3, 0.5)
    times, S, blown = evolve(attn, S0, 50.0, h=0.05, save_every=10**9)
    expected = torch.linalg.inv(torch.linalg.inv(S0) + 2 * 50.0 * q.T @ q / math.sqrt(2))
    assert not blown.any() and torch.allclose(times[-1], torch.full_like(times[-1], 50.0))
    torch.testing.assert_close(S[-1], expected, rtol=1e-5, atol=1e-8)


def test_blow_up_time_matches_closed_form():
    attn = regime_attention("blow_up", torch.Generator().manual_seed(1))
    assert torch.linalg.eigvalsh(score_matrix(attn) + score_matrix(attn).T).min() > 0
    S0 = cone_grid(3, 0.5)
    times, _, blown = evolve(attn, S0, 100.0)
    assert blown.all()
    torch.testing.assert_close(times[-1], blowup_time(attn, S0), rtol=1e-3, atol=0)


def test_isotropic_directions_are_null_for_the_quadratic_form():
    A = torch.tensor([[1.0, 2.0], [-0.5, -2.0]], dtype=F64)
    U = isotropic_directions(A)
    torch.testing.assert_close(torch.einsum("ki,ij,kj->k", U, A, U), torch.zeros(2, dtype=F64), atol=1e-12, rtol=0)
    torch.testing.assert_close(U.norm(dim=-1), torch.ones(2, dtype=F64))
    with pytest.raises(ValueError, match="not indefinite"):
        isotropic_directions(torch.eye(2, dtype=F64))


def test_line_assignment_of_rank_one_matrices():
    A = torch.tensor([[1.0, 2.0], [-0.5, -2.0]], dtype=F64)
    attn = Attention("softmax", A * math.sqrt(2), torch.eye(2, dtype=F64), torch.eye(2, dtype=F64))
    U = isotropic_directions(score_matrix(attn))
    S = torch.stack([2 * torch.outer(U[1], U[1]), torch.outer(U[0], U[0]), torch.eye(2, dtype=F64)])
    on_line, line = line_assignment(attn, S)
    assert on_line.tolist() == [True, True, False] and line[:2].tolist() == [1, 0]


def test_regime_weights_follow_their_definitions():
    gen = torch.Generator().manual_seed(2)
    to_zero = regime_attention("to_zero", gen)
    torch.testing.assert_close(to_zero.K, -to_zero.Q)
    torch.testing.assert_close(to_zero.V, to_zero.V.T)
    assert torch.linalg.eigvalsh(to_zero.V).min() > 0
    A = score_matrix(regime_attention("two_lines", gen))
    eig = torch.linalg.eigvalsh(A + A.T)
    assert eig[0] < 0 < eig[1]
    with pytest.raises(ValueError, match="valid: to_zero, rank_one, two_lines, blow_up"):
        regime_attention("spiral", gen)


def test_to_zero_signature_decays_like_one_over_t():
    attn = regime_attention("to_zero", torch.Generator().manual_seed(3))
    times, S, blown = evolve(attn, cone_grid(3, 0.5), 1e4)
    sig = signature("to_zero", attn, times, S, blown)
    assert sig["max_final_trace_ratio"] < 1e-2 and abs(sig["trace_decay_slope"] + 1) < 0.1


def test_presets_are_valid():
    for name in ("smoke", "cpu", "gpu"):
        Config.preset(name)
    with pytest.raises(ValueError, match="valid fields"):
        Config().override(n_particles=3)
