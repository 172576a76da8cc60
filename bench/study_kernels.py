"""Study kernels: the Transformer-PDE particle step vs n (each attention kind) and the Gaussian
ODE step, and the LiMVAM fit vs the lingam baselines on the same simulated data."""

from __future__ import annotations

import time

import numpy as np
import torch

from atelier.kernels import attention_velocity
from bench.common import device, row, sync, time_fn


def particle_rows(quick: bool) -> list[dict]:
    dev = device()
    d = 2
    g = torch.Generator().manual_seed(0)
    Q, K, V = (torch.randn(d, d, generator=g).to(dev) for _ in range(3))
    rows = []
    for n in ([256, 1024] if quick else [256, 1024, 4096]):
        x = torch.randn(n, d, generator=g).to(dev)
        for kind in ("softmax", "l2", "sigmoid", "sinkhorn", "causal"):
            def step():
                attention_velocity(x, Q, K, V, kind)
                sync(dev)
            median, iqr = time_fn(step, min_run_time=0.3 if quick else 1.0)
            rows.append(row("study_kernels", f"particle step {kind}", f"n={n}", 1e3 * median, "ms", 1e3 * iqr))
    return rows


def limvam_rows(quick: bool) -> list[dict]:
    from atelier.studies.multiview_causal.baselines import ica_lingam_per_view, multigroup_direct_lingam
    from atelier.studies.multiview_causal.limvam import ica_limvam
    from atelier.studies.multiview_causal.sem import simulate

    sample = simulate(np.random.default_rng(0), n_views=6, n_vars=5, n_samples=1000 if quick else 4000,
                      n_gaussian=5)
    rows = []
    for name, fit in [("ICA-LiMVAM (ShICA-J)", lambda X: ica_limvam(X, ica="shica_j")),
                      ("ICA-LiMVAM (ShICA-ML)", lambda X: ica_limvam(X, ica="shica_ml")),
                      ("ICA-LiNGAM per view", ica_lingam_per_view),
                      ("MultiGroupDirectLiNGAM", multigroup_direct_lingam)]:
        times = []
        for _ in range(1 if quick else 3):
            start = time.perf_counter()
            fit(sample.X)
            times.append(time.perf_counter() - start)
        rows.append(row("study_kernels", name, "fit time (6 views, 5 vars)", float(np.median(times)), "s",
                        max(times) - min(times)))
    return rows


def run(quick: bool = False) -> list[dict]:
    return particle_rows(quick) + limvam_rows(quick)
