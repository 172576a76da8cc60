"""Config of study 10 (the Transformer PDE); the field defaults are the cpu preset.

Sizes per experiment: (1) trajectories, (2) mean-field limit, (3) Gaussian moments and
normality, (4) covariance regimes, (5) stationary ranks, (6) clustering with causal masks.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from atelier.studies.config import StudyConfig


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    device: str = "cpu"  # torch device of the particle simulations
    score: float = 1.0  # spectral norm of A = K^T Q / sqrt d for the random layers (|V|_2 = 1)
    heads: int = 2  # heads of the multi-head layer (d = 2: two heads of dimension 1)
    sinkhorn_iters: int = 20  # log-domain Sinkhorn iterations per attention evaluation
    sigmoid_bias: float = 0.0  # b in sigmoid(<Q x, K y> / sqrt d + b)

    # (1) particle trajectories in 2-D
    traj_n: int = 24
    traj_t: float = 4.0
    traj_steps: int = 40
    traj_frames: int = 20

    # (2) mean-field limit: W2 between the n- and 2n-particle systems
    mf_ns: tuple[int, ...] = (32, 64, 128, 256, 512)
    mf_reps: int = 3
    mf_t: float = 2.0
    mf_steps: int = 4  # the n- and 2n-systems share the scheme, so coarse RK4 steps suffice
    mf_metric: str = "w2"  # w2 (exact, POT emd2) | sliced (sliced W2, for large n)

    # (3) Gaussian initial data: particle moments vs the ODEs, normality over time
    gauss_ns: tuple[int, ...] = (256, 512, 1024, 2048, 4096)
    gauss_reps: int = 8  # clouds at the largest n; n gets gauss_reps * max(n) / n
    gauss_t: float = 2.0
    gauss_steps: int = 8
    norm_n: int = 4096
    norm_reps: int = 4
    norm_t: float = 8.0
    norm_steps: int = 16

    # (4) 2-D covariance regimes
    regime_grid: int = 10
    regime_t: float = 1000.0
    regime_h: float = 0.1
    regime_max_steps: int = 20000

    # (5) rank of the stationary covariance
    rank_dims: tuple[int, ...] = (3, 4, 5)
    rank_draws: int = 100
    rank_t: float = 1e5  # the killed eigenvalues decay like 1/t
    rank_tol: float = 1e-2  # an eigenvalue counts if above rank_tol * the largest

    # (6) clustering on the sphere, causal vs full attention
    cluster_n: int = 64
    cluster_d: int = 3
    cluster_beta: float = 4.0
    cluster_t: float = 40.0
    cluster_steps: int = 400
    cluster_eps: float = 0.05

    PRESETS: ClassVar[dict] = {
        "smoke": {
            "traj_n": 8, "traj_steps": 8, "traj_frames": 4,
            "mf_ns": (32, 64, 128), "mf_reps": 1, "mf_steps": 2,
            "gauss_ns": (128, 256, 512), "gauss_reps": 1, "gauss_steps": 2,
            "norm_n": 256, "norm_reps": 1, "norm_steps": 2,
            "regime_grid": 4, "regime_t": 50.0, "regime_max_steps": 500,
            "rank_draws": 4, "rank_t": 50.0,
            "cluster_n": 16, "cluster_steps": 40,
        },
        "gpu": {  # one H100: every n x n score tensor below fits in memory even without fused kernels
            "device": "cuda",
            "mf_ns": (256, 512, 1024, 2048, 4096, 8192), "mf_reps": 8, "mf_steps": 8, "mf_metric": "sliced",
            "gauss_ns": (1024, 2048, 4096, 8192, 16384), "gauss_reps": 8, "gauss_steps": 16,
            "norm_n": 16384, "norm_reps": 8, "norm_steps": 32,
            "regime_grid": 30,
            "rank_draws": 1000, "rank_t": 1e6,
            "cluster_n": 1024, "cluster_steps": 2000,
        },
    }
