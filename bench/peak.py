"""Peak: dense square-matmul throughput of this device in fp32 and bf16, the reference of every MFU."""

from __future__ import annotations

import torch

from atelier.train.throughput import matmul_rates
from bench.common import device, row


def matmul_flops(dtype: torch.dtype, n: int, dev: torch.device) -> tuple[float, float]:
    """(median FLOP/s, interquartile range in FLOP/s) of an n x n x n matmul: the rates the MFU peak of
    ``atelier.train`` is the best of, each repeat long enough (~0.5 s on a CPU) to time reliably."""
    rates = torch.tensor(matmul_rates(dev, dtype, n, repeats=7, inner=max(5, (4096 // n) ** 3)))
    q1, median, q3 = torch.quantile(rates.double(), torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)).tolist()
    return median, q3 - q1


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
