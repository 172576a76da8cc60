"""Peak: dense square-matmul throughput of this device in fp32 and bf16, the reference of every MFU."""

from __future__ import annotations

import torch

from bench.common import device, row, sync, time_fn


def matmul_flops(dtype: torch.dtype, n: int, dev: torch.device) -> tuple[float, float]:
    """(median FLOP/s, spread in FLOP/s) of an n x n x n matmul."""
    a = torch.randn(n, n, device=dev, dtype=dtype)
    b = torch.randn(n, n, device=dev, dtype=dtype)

    def step():
        a @ b
        sync(dev)

    median, iqr = time_fn(step)
    flops = 2 * n**3
    return flops / median, flops / median**2 * iqr


def peak_flops(dtype: torch.dtype = torch.float32, quick: bool = False) -> float:
    """The best median FLOP/s over a few matrix sizes."""
    dev = device()
    sizes = [4096, 8192] if dev.type == "cuda" else ([512] if quick else [512, 1024, 2048])
    return max(matmul_flops(dtype, n, dev)[0] for n in sizes)


def run(quick: bool = False) -> list[dict]:
    dev = device()
    rows = []
    sizes = [4096, 8192] if dev.type == "cuda" else ([512] if quick else [512, 1024, 2048])
    for dtype in (torch.float32, torch.bfloat16):
        for n in sizes:
            flops, spread = matmul_flops(dtype, n, dev)
            rows.append(row("peak", f"matmul {n}", str(dtype).removeprefix("torch."), flops / 1e9, "GFLOP/s",
                            spread / 1e9, f"{dev.type}, {torch.get_num_threads()} threads"))
    return rows
