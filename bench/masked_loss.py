"""Masked-diffusion loss: cross-entropy at the masked positions only vs over full logits.

Three ways to score the masked tokens of a [B, T] batch, forward + backward from the final
hidden states: full logits [B, T, V] then select; logits of the masked rows only (what
MaskedDiffusionLoss does); and the fused chunked linear + cross-entropy kernel, which never
holds more than [chunk, V] logits. Memory is the peak CUDA allocation on GPU; on CPU, the
peak of the running sum of allocations and frees that torch.profiler records.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from atelier.kernels import linear_cross_entropy
from bench.common import device, row, sync, time_fn


def _inputs(B: int, T: int, D: int, V: int, mask_rate: float, dev):
    g = torch.Generator().manual_seed(0)
    h = torch.randn(B, T, D, generator=g).to(dev).requires_grad_()
    W = (torch.randn(V, D, generator=g) / D**0.5).to(dev).requires_grad_()
    targets = torch.randint(0, V, (B, T), generator=g).to(dev)
    masked = (torch.rand(B, T, generator=g) < mask_rate).to(dev)
    return h, W, targets, masked


def variants(h, W, targets, masked):
    return {
        "full logits": lambda: F.cross_entropy((h @ W.T)[masked], targets[masked]),
        "masked rows": lambda: F.cross_entropy(h[masked] @ W.T, targets[masked]),
        "fused chunked": lambda: linear_cross_entropy(h[masked], W, targets[masked]),
    }


def _allocated_bytes(fn, dev) -> float:
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fn().backward()
        sync(dev)
        return torch.cuda.max_memory_allocated() - base
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        fn().backward()
    # Allocation and free events in time order: the running sum's maximum is the peak.
    events = sorted(prof.events(), key=lambda e: e.time_range.start)
    running = peak = 0
    for event in events:
        running += event.self_cpu_memory_usage
        peak = max(peak, running)
    return peak


def run(quick: bool = False) -> list[dict]:
    dev = device()
    B, T, D, V = (8, 256, 256, 8192) if quick or dev.type == "cpu" else (32, 1024, 1024, 50304)
    rows = []
    for mask_rate in (0.15, 0.5):
        h, W, targets, masked = _inputs(B, T, D, V, mask_rate, dev)
        name = f"B{B} T{T} D{D} V{V} mask {mask_rate:.0%}"
        for variant, loss_fn in variants(h, W, targets, masked).items():
            def step():
                h.grad = W.grad = None
                loss_fn().backward()
                sync(dev)
            median, iqr = time_fn(step, min_run_time=0.5 if quick else 2.0)
            rows += [row("masked_loss", name, f"{variant} time", 1e3 * median, "ms", 1e3 * iqr),
                     row("masked_loss", name, f"{variant} memory", _allocated_bytes(loss_fn, dev) / 2**20, "MiB")]
    return rows
