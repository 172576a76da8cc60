"""attention_velocity: references against dense formulas, fast paths against references."""

import math
import warnings

import pytest
import torch

from atelier.kernels import attention_velocity
from atelier.kernels.attention import KINDS

n, d, m, p = 37, 3, 4, 5  # n spans several tiles and ends mid-tile; Q, K: [m, d], V: [p, d]


def cloud(dtype=torch.float64, device="cpu", batch=(2,), seed=0, size=n):
    """x [*batch, size, d] and Q, K [m, d], V [p, d], all requiring gradients."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(*batch, size, d, generator=g, dtype=dtype)
    Q, K = torch.randn(2, m, d, generator=g, dtype=dtype).unbind(0)
    V = torch.randn(p, d, generator=g, dtype=dtype)
    return [t.to(device).requires_grad_() for t in (x, Q, K, V)]


def dense(x, Q, K, V, kind, bias=0.0, iters=500):
    """Gamma(x_i) = sum_j P_ij V x_j with P written out as an n x n matrix."""
    q, k, v = x @ Q.T, x @ K.T, x @ V.T
    scores = q @ k.transpose(-1, -2) / math.sqrt(d)  # [..., n, n]
    if kind == "softmax":
        P = scores.softmax(-1)
    elif kind == "causal":
        future = torch.ones(x.shape[-2], x.shape[-2], dtype=torch.bool).triu(1)
        P = scores.masked_fill(future, -math.inf).softmax(-1)
    elif kind == "l2":
        P = (-torch.cdist(q, k) ** 2 / math.sqrt(d)).softmax(-1)
    elif kind == "sigmoid":
        P = torch.sigmoid(scores + bias) / x.shape[-2]
    else:  # plain-domain Sinkhorn matrix scaling diag(a) exp(scores) diag(b), run to convergence
        E = scores.exp()
        a = torch.ones_like(scores[..., :, 0])
        for _ in range(iters):
            b = 1 / (E.transpose(-1, -2) @ a[..., None])[..., 0]  # columns
            a = 1 / (E @ b[..., None])[..., 0]  # rows
        P = a[..., :, None] * E * b[..., None, :]
    return P @ v


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch", [(), (2,)])
def test_reference_matches_the_dense_formula(kind, batch):
    x, Q, K, V = cloud(batch=batch)
    opts = {"sigmoid": {"bias": -0.4}, "sinkhorn": {"iters": 500}}.get(kind, {})
    got = attention_velocity(x, Q, K, V, kind, impl="torch", **opts)
    assert got.shape == (*batch, n, p)
    torch.testing.assert_close(got, dense(x, Q, K, V, kind, **opts), rtol=1e-7, atol=1e-9)


def test_sinkhorn_plan_is_doubly_stochastic():
    from atelier.kernels.attention import sinkhorn_plan

    P = sinkhorn_plan(torch.randn(3, 9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 4, 300)
    torch.testing.assert_close(P.sum(-1), torch.ones(3, 9, dtype=torch.float64))
    torch.testing.assert_close(P.sum(-2), torch.ones(3, 9, dtype=torch.float64))


@pytest.mark.parametrize("kind", KINDS)
def test_reference_passes_gradcheck(kind):
    inputs = cloud(batch=(), size=4)
    opts = {"sinkhorn": {"iters": 5}}.get(kind, {})
    assert torch.autograd.gradcheck(lambda *t: attention_velocity(*t, kind, impl="torch", **opts), inputs)


def fast_vs_reference(kind, impl, device, **opts):
    x, Q, K, V = (t.detach() for t in cloud(torch.float32, device))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flex_attention off CUDA warns that it runs unfused
        got = attention_velocity(x, Q, K, V, kind, impl=impl, **opts)
    want = attention_velocity(x, Q, K, V, kind, impl="torch", **opts)
    tol = 1e-5 if device == "cpu" else 2e-3  # the GPU's fp32 matmuls may use TF32
    torch.testing.assert_close(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("bias", [0.0, 0.7])
def test_triton_sigmoid_matches_the_reference(device, bias):
    fast_vs_reference("sigmoid", "triton", device, bias=bias)


@pytest.mark.parametrize("kind", ["l2", "causal"])
def test_flex_score_mod_and_block_mask_match_the_reference_on_cpu(kind):
    fast_vs_reference(kind, "flex", "cpu")


@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="compiled FlexAttention needs an NVIDIA GPU (CUDA): none here")
@pytest.mark.parametrize("kind", ["l2", "causal"])
def test_compiled_flex_matches_the_reference_on_cuda(kind):
    fast_vs_reference(kind, "flex", "cuda")


@pytest.mark.parametrize("kind", KINDS)
def test_auto_takes_the_reference_off_cuda(kind):
    x, Q, K, V = (t.detach() for t in cloud(torch.float32))
    assert torch.equal(attention_velocity(x, Q, K, V, kind), attention_velocity(x, Q, K, V, kind, impl="torch"))


def test_agrees_with_the_transformer_pde_study_functions():
    study = pytest.importorskip("atelier.studies.transformer_pde.attention")
    x, Q, K, V = (t.detach() for t in cloud(batch=(2,)))
    Q, K = Q[:, :d], K[:, :d]
    V = V[:d]
    for kind in KINDS:
        theirs = study.Attention(kind, Q, K, V, bias=0.3, sinkhorn_iters=20).velocity(x)
        opts = {"sigmoid": {"bias": 0.3}, "sinkhorn": {"iters": 20}}.get(kind, {})
        torch.testing.assert_close(attention_velocity(x, Q, K, V, kind, **opts), theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("args, message", [
    (dict(kind="cosine"), "unknown attention kind 'cosine'; valid: softmax, causal, l2, sigmoid, sinkhorn"),
    (dict(kind="softmax", impl="flex"), "impl='flex' is not available for 'softmax'; valid: auto, torch"),
    (dict(kind="sigmoid", temperature=2.0), r"unknown option\(s\) \['temperature'\] for 'sigmoid'; valid: \['bias'\]"),
    (dict(kind="sinkhorn", iters=0), "sinkhorn iters=0 must be >= 1"),
    (dict(kind="l2", V=torch.zeros(3, 4)), r"V \(3, 4\)"),
    (dict(kind="l2", K=torch.zeros(4, 2)), r"K \(4, 2\)"),
    (dict(kind="softmax", x=torch.zeros(3)), r"x \(3,\)"),
])
def test_bad_inputs_raise_one_clear_error(args, message):
    kw = dict(x=torch.zeros(5, d), Q=torch.zeros(m, d), K=torch.zeros(m, d), V=torch.zeros(p, d))
    kw.update(args)
    with pytest.raises(ValueError, match=message):
        attention_velocity(**kw)


def test_triton_refuses_gradients():
    x, Q, K, V = cloud(torch.float32)
    with pytest.raises(ValueError, match="forward-only"):
        attention_velocity(x, Q, K, V, "sigmoid", impl="triton")
