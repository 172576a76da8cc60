"""linear_cross_entropy against F.cross_entropy on full logits, and its backends against each other."""

import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from torch.utils._python_dispatch import TorchDispatchMode

from atelier.kernels import linear_cross_entropy

N, D, V, IGNORE = 37, 20, 53, -100  # not multiples of the tiles (16, or 64/128 on CUDA)


def problem(dtype=torch.float64, device="cpu", seed=0, n=N):
    """h [n, D], W [V, D], targets with two ignored rows (if n > 2), positive weights [n]."""
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(n, D, generator=g, dtype=dtype)
    W = torch.randn(V, D, generator=g, dtype=dtype) / D**0.5
    targets = torch.randint(0, V, (n,), generator=g)
    if n > 2:
        targets[[1, n // 2]] = IGNORE
    weights = torch.rand(n, generator=g, dtype=dtype) + 0.1
    return [t.to(device).requires_grad_(t.is_floating_point()) for t in (h, W, targets, weights)]


def dense_loss(h, W, targets, multiplier, weights, reduction):
    """The plain formula: per-row F.cross_entropy of the full logits, weighted and reduced."""
    ce = F.cross_entropy(h @ W.T * multiplier, targets, ignore_index=IGNORE, reduction="none")
    c = (targets != IGNORE).to(h.dtype) * (1 if weights is None else weights)
    return (c * ce).sum() / (c.sum() if reduction == "mean" else 1)


def value_and_grads(loss, inputs):
    return [loss.detach()] + [g for g in torch.autograd.grad(loss, inputs)]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("use_weights", [False, True])
def test_reference_matches_the_dense_formula_and_its_gradients(reduction, use_weights):
    h, W, targets, weights = problem()
    weights = weights if use_weights else None
    inputs = [h, W] + ([weights] if use_weights else [])
    got = value_and_grads(linear_cross_entropy(h, W, targets, 0.7, weights, reduction, impl="torch", chunk_size=8),
                          inputs)
    want = value_and_grads(dense_loss(h, W, targets, 0.7, weights, reduction), inputs)
    for a, b in zip(got, want):
        torch.testing.assert_close(a.to(b.dtype), b, rtol=1e-6, atol=1e-9)


def test_unweighted_mean_equals_f_cross_entropy_with_ignore_index():
    h, W, targets, _ = problem()
    want = F.cross_entropy(h @ W.T * 2.0, targets, ignore_index=IGNORE)
    got = linear_cross_entropy(h, W, targets, multiplier=2.0, impl="torch")
    torch.testing.assert_close(got.double(), want, rtol=1e-6, atol=0)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_reference_passes_gradcheck(reduction):
    h, W, targets, weights = problem(n=6)
    targets = targets.detach().clone()
    targets[1] = IGNORE

    def f(h, W, weights):
        return linear_cross_entropy(h, W, targets, 1.3, weights, reduction, impl="torch", chunk_size=4)

    assert torch.autograd.gradcheck(f, (h, W, weights))


def test_chunk_size_does_not_change_value_or_gradients():
    h, W, targets, weights = problem()
    results = [value_and_grads(linear_cross_entropy(h, W, targets, 0.5, weights, "sum", impl="torch",
                                                    chunk_size=c), [h, W, weights]) for c in (1, 5, N, 4 * N)]
    for other in results[1:]:
        for a, b in zip(results[0], other):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


class LargestTensor(TorchDispatchMode):
    """Records the largest tensor any torch op produces while active."""

    largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return out


def test_the_reference_never_holds_the_full_logits():
    n = 200
    h, W, targets, weights = problem(torch.float32, n=n)
    with LargestTensor() as record:
        loss = linear_cross_entropy(h, W, targets, weights=weights, impl="torch", chunk_size=8)
        torch.autograd.grad(loss, [h, W])
    assert record.largest == max(8 * V, V * D, n * D)  # logits chunks, grad W, grad h; never [n, V]


def test_ignored_rows_and_zero_weights_contribute_nothing():
    h, W, targets, weights = problem()
    kept = targets != IGNORE
    full = linear_cross_entropy(h, W, targets, weights=weights, reduction="sum", impl="torch")
    only_kept = linear_cross_entropy(h[kept], W, targets[kept], weights=weights[kept], reduction="sum", impl="torch")
    torch.testing.assert_close(full, only_kept)
    grad_h = torch.autograd.grad(full, h)[0]
    assert grad_h[~kept].abs().max() == 0


def test_no_rows_give_a_zero_sum_and_zero_gradients():
    h, W, targets, _ = problem(n=0)
    loss = linear_cross_entropy(h, W, targets, reduction="sum", impl="torch")
    grad_W = torch.autograd.grad(loss, W)[0]
    assert loss.item() == 0 and grad_W.abs().max() == 0


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("multiplier", [1.0, 0.3])
def test_triton_matches_the_reference(device, reduction, multiplier):
    h, W, targets, weights = problem(torch.float32, device)
    inputs = [h, W, weights]
    got = value_and_grads(linear_cross_entropy(h, W, targets, multiplier, weights, reduction, impl="triton"),
                          inputs)
    want = value_and_grads(linear_cross_entropy(h, W, targets, multiplier, weights, reduction, impl="torch"),
                           inputs)
    tol = 1e-5 if device == "cpu" else 2e-3  # the GPU's fp32 matmuls may use TF32
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=tol, atol=tol)


def test_triton_handles_a_strided_h_and_few_rows(device):
    h, W, targets, _ = problem(torch.float32, device, n=3)
    wide = torch.cat([h, h], dim=1)[:, :D]  # same values, row stride 2D
    got = linear_cross_entropy(wide, W, targets, impl="triton")
    want = linear_cross_entropy(h, W, targets, impl="torch")
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="bf16 tiles need an NVIDIA GPU (CUDA): none here")
def test_triton_bf16_is_close_to_the_fp32_reference():
    h, W, targets, weights = problem(torch.float32, "cuda", n=300)
    want = linear_cross_entropy(h, W, targets, weights=weights, impl="torch")
    got = linear_cross_entropy(h.bfloat16(), W.bfloat16(), targets, weights=weights, impl="auto")
    torch.testing.assert_close(got, want, rtol=2e-2, atol=2e-2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="compiled Triton needs an NVIDIA GPU (CUDA): none here")
def test_triton_under_torch_compile_matches_eager():
    """torch.compile hands the kernel its float multiplier as fp64: the tiles must stay fp32."""
    h, W, targets, weights = problem(torch.float32, "cuda", n=300)

    def loss(h, W):
        return linear_cross_entropy(h, W, targets, multiplier=0.3, weights=weights, impl="triton")

    h2, W2 = (t.detach().clone().requires_grad_() for t in (h, W))
    want = loss(h, W)
    want.backward()
    got = torch.compile(loss)(h2, W2)
    got.backward()
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(h2.grad, h.grad, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(W2.grad, W.grad, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kwargs, message", [
    (dict(h=torch.zeros(4, 3)), "same D"),
    (dict(targets=torch.zeros(5, dtype=torch.long)), "targets"),
    (dict(targets=torch.zeros(4)), "Long"),
    (dict(weights=torch.ones(3)), "weights"),
    (dict(targets=torch.tensor([0, 1, 7, -100])), "target 7 is out of range"),
    (dict(reduction="avg"), "reduction='avg'.*mean, sum"),
    (dict(impl="cuda"), "impl='cuda'.*auto, torch, triton"),
    (dict(chunk_size=0), "chunk_size=0"),
])
def test_bad_inputs_raise_one_clear_error(kwargs, message):
    args = dict(h=torch.zeros(4, 2), W=torch.zeros(7, 2), targets=torch.zeros(4, dtype=torch.long))
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        linear_cross_entropy(**args)


def test_importing_atelier_kernels_does_not_import_triton():
    code = "import sys, atelier, atelier.kernels; assert 'triton' not in sys.modules, 'triton imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_autocast_casts_h_and_w_like_a_matmul():
    h, W, targets, _ = problem(torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = linear_cross_entropy(h, W, targets, impl="torch")
    grad_W = torch.autograd.grad(loss, W)[0]
    want = F.cross_entropy(h.bfloat16().float() @ W.bfloat16().float().T, targets, ignore_index=IGNORE)
    assert loss.dtype == torch.float32 and grad_W.dtype == torch.float32
    torch.testing.assert_close(loss, want, rtol=1e-5, atol=1e-5)


def test_triton_with_no_rows_gives_a_zero_sum(device):
    h, W, targets, _ = problem(torch.float32, device, n=0)
    loss = linear_cross_entropy(h, W, targets, reduction="sum", impl="triton")
    assert loss.item() == 0 and torch.autograd.grad(loss, W)[0].abs().max() == 0
