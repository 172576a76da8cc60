"""Shared timing and row helpers of the benchmarks: medians and spreads, never single shots."""

from __future__ import annotations

import time
from typing import Callable

import torch
from torch.utils import benchmark


def row(section: str, name: str, metric: str, value: float, unit: str, spread: float = float("nan"),
        note: str = "") -> dict:
    return {"section": section, "name": name, "metric": metric, "value": float(value), "unit": unit,
            "spread": float(spread), "note": note}


def sync(device: torch.device | str = "cpu") -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_fn(fn: Callable[[], object], min_run_time: float = 1.0) -> tuple[float, float]:
    """(median seconds per call, interquartile range) with torch.utils.benchmark after a warm-up.

    The Timer runs with torch's current thread count: its default is one thread, which would
    time every kernel (and the peak of every MFU) single-threaded."""
    fn()
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    measurement = timer.blocked_autorange(min_run_time=min_run_time)
    return measurement.median, measurement.iqr


def time_repeats(fn: Callable[[], object], repeats: int = 3) -> tuple[float, float]:
    """(median, max - min) wall seconds of ``fn`` over ``repeats`` calls: for long, stateful runs."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2], times[-1] - times[0]


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
