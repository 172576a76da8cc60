"""Velocity fields of study 10 against brute-force attention written out entry by entry."""

import math

import pytest
import torch

from atelier.studies.transformer_pde.attention import (
    Attention, all_variants, causal_velocity, l2_velocity, multihead_velocity, sigmoid_velocity,
    sinkhorn_plan, sinkhorn_velocity, softmax_velocity,
)

D, N = 3, 7


@pytest.fixture
def weights():
    gen = torch.Generator().manual_seed(0)
    x, Q, K, V = (torch.randn(*s, generator=gen, dtype=torch.float64) for s in [(2, N, D), (D, D), (D, D), (D, D)])
    return x, Q, K, V


def apply(W, x, V):
    """sum_j W_ij V x_j for a weight table W written out entry by entry."""
    return torch.tensor(W, dtype=x.dtype) @ (x @ V.T)


def test_softmax_matches_explicit_sum(weights):
    x, Q, K, V = weights
    for b in range(2):
        s = lambda i, j: math.exp(float(Q @ x[b, i] @ (K @ x[b, j])) / math.sqrt(D))
        W = [[s(i, j) / sum(s(i, k) for k in range(N)) for j in range(N)] for i in range(N)]
        torch.testing.assert_close(softmax_velocity(x, Q, K, V)[b], apply(W, x[b], V))


def test_l2_matches_explicit_distances(weights):
    x, Q, K, V = weights
    s = lambda i, j: math.exp(-float((Q @ x[0, i] - K @ x[0, j]).square().sum()) / math.sqrt(D))
    W = [[s(i, j) / sum(s(i, k) for k in range(N)) for j in range(N)] for i in range(N)]
    torch.testing.assert_close(l2_velocity(x, Q, K, V)[0], apply(W, x[0], V))


def test_sigmoid_is_a_mean_of_sigmoid_weights(weights):
    x, Q, K, V = weights
    bias = -0.7
    W = [[1 / (1 + math.exp(-(float(Q @ x[0, i] @ (K @ x[0, j])) / math.sqrt(D) + bias))) / N for j in range(N)]
         for i in range(N)]
    torch.testing.assert_close(sigmoid_velocity(x, Q, K, V, bias)[0], apply(W, x[0], V))


def test_causal_token_ignores_later_tokens(weights):
    x, Q, K, V = weights
    moved = x.clone()
    moved[:, 4:] += 10.0  # tokens 4.. move far away
    before, after = causal_velocity(x, Q, K, V), causal_velocity(moved, Q, K, V)
    torch.testing.assert_close(before[:, :4], after[:, :4])
    assert (before[:, 4:] - after[:, 4:]).abs().max() > 1.0
    torch.testing.assert_close(before[:, 0], x[:, 0] @ V.T)  # the first token sees only itself
    # the last token sees every token: unmasked attention
    torch.testing.assert_close(before[:, -1], softmax_velocity(x, Q, K, V)[:, -1])


def test_multihead_is_the_sum_of_its_heads():
    gen = torch.Generator().manual_seed(1)
    H, k, d = 3, 2, 4
    x = torch.randn(N, d, generator=gen, dtype=torch.float64)
    Q, K, V, W = (torch.randn(H, k, d, generator=gen, dtype=torch.float64) for _ in range(4))
    expected = 0
    for h in range(H):
        scores = (x @ Q[h].T) @ (x @ K[h].T).T / math.sqrt(k)
        expected = expected + torch.softmax(scores, -1) @ (x @ V[h].T) @ W[h]
    torch.testing.assert_close(multihead_velocity(x, Q, K, V, W), expected)


def test_one_head_with_identity_output_is_softmax(weights):
    x, Q, K, V = weights
    eye = torch.eye(D, dtype=x.dtype)[None]
    torch.testing.assert_close(multihead_velocity(x, Q[None], K[None], V[None], eye), softmax_velocity(x, Q, K, V))


def test_all_variants_split_values_across_heads(weights):
    _, Q, K, V = weights
    gen = torch.Generator().manual_seed(2)
    Q4, K4, V4 = (torch.randn(4, 4, generator=gen, dtype=torch.float64) for _ in range(3))
    layer = all_variants(Q4, K4, V4, heads=2)["multihead"]
    torch.testing.assert_close(sum(W.T @ Vh for W, Vh in zip(layer.W, layer.V)), V4)
    with pytest.raises(ValueError, match="must divide"):
        all_variants(Q, K, V, heads=2)


def test_sinkhorn_plan_is_doubly_stochastic_scaling():
    gen = torch.Generator().manual_seed(3)
    scores = 2 * torch.randn(2, N, N, generator=gen, dtype=torch.float64)
    P = sinkhorn_plan(scores, iters=300)
    torch.testing.assert_close(P.sum(-1), torch.ones(2, N, dtype=P.dtype))
    torch.testing.assert_close(P.sum(-2), torch.ones(2, N, dtype=P.dtype), atol=1e-8, rtol=0)
    # a Sinkhorn scaling: log P - scores = f_i + g_j, so its double centring vanishes
    R = P.log() - scores
    centred = R - R.mean(-1, keepdim=True) - R.mean(-2, keepdim=True) + R.mean((-1, -2), keepdim=True)
    assert centred.abs().max() < 1e-10


def test_sinkhorn_velocity_uses_the_plan(weights):
    x, Q, K, V = weights
    scores = (x @ Q.T) @ (x @ K.T).mT / math.sqrt(D)
    torch.testing.assert_close(sinkhorn_velocity(x, Q, K, V, 40), sinkhorn_plan(scores, 40) @ (x @ V.T))


def test_attention_dispatch_and_errors(weights):
    x, Q, K, V = weights
    torch.testing.assert_close(Attention("l2", Q, K, V).velocity(x), l2_velocity(x, Q, K, V))
    with pytest.raises(ValueError, match="valid: softmax, multihead, l2, sinkhorn, sigmoid, causal"):
        Attention("linear", Q, K, V)
    with pytest.raises(ValueError, match="W is required"):
        Attention("multihead", Q, K, V)
    with pytest.raises(ValueError, match="iters=0"):
        sinkhorn_plan(torch.zeros(2, 2), 0)
