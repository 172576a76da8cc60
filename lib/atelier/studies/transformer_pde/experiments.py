"""The experiments of study 10, one function each, returning polars tables for the notebook.

(1) particle_trajectories  every attention variant moving the same 2-D cloud
(2) mean_field_limit       W2 between the n- and 2n-particle systems at times t, vs n
(3) gaussian_moments       particle mean/covariance from Gaussian data vs the moment ODEs
    normality              Mardia's skewness and kurtosis of the particles over time, softmax vs sigmoid
(4) covariance_regimes     2-D covariance trajectories of the four regimes and their signatures
(5) stationary_ranks       rank of the stationary covariance for K = -Q, d = 3, 4, 5
(6) causal_clustering      tokens on the sphere: number of clusters vs time, causal vs full

Random layers are drawn from a generator seeded by the run seed: Q, K, V with i.i.d. normal
entries, rescaled so that |K^T Q / sqrt d|_2 = cfg.score and |V|_2 = 1.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import polars as pl
import torch

from atelier.studies.transformer_pde.attention import Attention, all_variants
from atelier.studies.transformer_pde.config import Config
from atelier.studies.transformer_pde.gaussian_ode import GAUSSIAN_KINDS, integrate_moments
from atelier.studies.transformer_pde.metrics import (
    count_clusters, cone_coordinates, loglog_slope, mardia_kurtosis, mardia_skewness, mean_and_covariance,
    relative_frobenius, sliced_wasserstein2, wasserstein2,
)
from atelier.studies.transformer_pde.particles import simulate
from atelier.studies.transformer_pde.regimes import REGIMES, cone_grid, evolve, regime_attention, signature

GAUSS_MEAN = (0.5, -0.25)  # initial Gaussian N(a0, L L^T) of experiment (3)
GAUSS_COV_ROOT = ((1.0, 0.0), (0.3, 0.7))
MEAN_FIELD_VARIANTS = ("softmax", "multihead", "l2", "sinkhorn", "sigmoid")
F64 = torch.float64


def _device(cfg: Config) -> torch.device:
    if cfg.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={cfg.device!r} but CUDA is not available; use device='cpu'")
    return torch.device(cfg.device)


@contextlib.contextmanager
def _one_thread():
    """Batches of tiny matrices run faster on one thread than split across cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def random_layers(cfg: Config, gen: torch.Generator, d: int = 2) -> dict[str, Attention]:
    """Every attention variant from one normal draw of (Q, K, V), rescaled (module docstring)."""
    Q, K, V = (torch.randn(d, d, generator=gen, dtype=F64) for _ in range(3))
    root = math.sqrt(cfg.score / torch.linalg.matrix_norm(K.T @ Q / math.sqrt(d), ord=2))
    V = V / torch.linalg.matrix_norm(V, ord=2)
    return all_variants(Q * root, K * root, V, cfg.heads, cfg.sigmoid_bias, cfg.sinkhorn_iters)


def _frames_table(times: torch.Tensor, frames: torch.Tensor, **labels) -> pl.DataFrame:
    """Long table of frames (F, n, 2): one row per (t, particle)."""
    F, n = frames.shape[:2]
    xy = frames.reshape(F * n, 2).double().cpu().numpy()  # rows ordered (frame, particle)
    return pl.DataFrame({**{k: [v] * (F * n) for k, v in labels.items()},
                         "particle": np.tile(np.arange(n), F), "t": np.repeat(times.numpy(), n),
                         "x1": xy[:, 0], "x2": xy[:, 1]})


def particle_trajectories(cfg: Config, seed: int) -> pl.DataFrame:
    """(1) One cloud, uniform on [-1, 1]^2, moved by each variant of one random layer."""
    gen = torch.Generator().manual_seed(seed)
    layers = random_layers(cfg, gen)
    x0 = (2 * torch.rand(cfg.traj_n, 2, generator=gen) - 1).to(_device(cfg))
    save_every = max(1, cfg.traj_steps // cfg.traj_frames)
    return pl.concat([
        _frames_table(*simulate(layer.velocity, x0, cfg.traj_t, cfg.traj_steps, save_every), variant=kind)
        for kind, layer in layers.items()
    ])


def mean_field_limit(cfg: Config, seed: int) -> pl.DataFrame:
    """(2) Distance between the n- and 2n-particle empirical measures at t = 0, T/2, T.

    The 2n initial tokens are uniform on [-1, 1]^2 and the n-particle system starts from their
    first half, so both approximate the same mean-field solution; the distance vs n measures the
    rate of the mean-field limit. Rows: variant, n, rep, t, distance.
    """
    gen = torch.Generator().manual_seed(seed)
    layers = random_layers(cfg, gen)
    metric = {"w2": wasserstein2, "sliced": sliced_wasserstein2}.get(cfg.mf_metric)
    if metric is None:
        raise ValueError(f"mf_metric={cfg.mf_metric!r}; valid: w2, sliced")
    rows = []
    for n in cfg.mf_ns:
        x_2n = (2 * torch.rand(cfg.mf_reps, 2 * n, 2, generator=gen) - 1).to(_device(cfg))
        for kind in MEAN_FIELD_VARIANTS:
            run = lambda x: simulate(layers[kind].velocity, x, cfg.mf_t, cfg.mf_steps, max(1, cfg.mf_steps // 2))
            times, small = run(x_2n[:, :n])
            _, large = run(x_2n)
            for f, t in enumerate(times.tolist()):
                for rep in range(cfg.mf_reps):
                    rows.append({"variant": kind, "n": n, "rep": rep, "t": t,
                                 "distance": metric(small[f, rep], large[f, rep])})
    return pl.DataFrame(rows)


def mean_field_rates(table: pl.DataFrame) -> pl.DataFrame:
    """Fitted exponent of distance ~ n^rate per variant and time (mean over repetitions)."""
    means = table.group_by("variant", "t", "n").agg(pl.col("distance").mean()).sort("n")
    return pl.DataFrame([
        {"variant": variant, "t": t, "rate": loglog_slope(g["n"], g["distance"])}
        for (variant, t), g in means.group_by("variant", "t")
    ]).sort("variant", "t")


def gaussian_layers(cfg: Config, gen: torch.Generator) -> tuple[dict[str, Attention], torch.Tensor, torch.Tensor]:
    """A random layer whose Gaussian ODEs (softmax, l2, multihead) stay bounded up to the horizon.

    Draws until no covariance trace more than doubles before max(gauss_t, norm_t): near a
    blow-up the tilted Gaussians put their mass where no particle is, and the particle
    system can no longer follow. Returns (layers, a0, S0).
    """
    a0 = torch.tensor(GAUSS_MEAN, dtype=F64)
    root = torch.tensor(GAUSS_COV_ROOT, dtype=F64)
    S0 = root @ root.T
    horizon = max(cfg.gauss_t, cfg.norm_t)
    for _ in range(1000):
        layers = random_layers(cfg, gen)
        traces = [integrate_moments(layers[k], a0, S0, horizon, 64)[2].diagonal(dim1=-2, dim2=-1).sum(-1)
                  for k in GAUSSIAN_KINDS]
        if all(torch.isfinite(tr).all() and tr.max() <= 2 * tr[0] for tr in traces):
            return layers, a0, S0
    raise RuntimeError("no layer with bounded Gaussian dynamics in 1000 draws")


def _gaussian_cloud(a0, S0, reps, n, gen, device) -> torch.Tensor:
    root = torch.linalg.cholesky(S0)
    return (a0 + torch.randn(reps, n, len(a0), generator=gen, dtype=F64) @ root.T).float().to(device)


def gaussian_moments(cfg: Config, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(3) Particle mean and covariance from N(a0, S0) vs the moment ODEs, for each n.

    Each n gets gauss_reps * max(n) / n independent clouds, so the error of every n is
    averaged over the same number of particles. Returns (errors: variant, n, rep, t,
    cov_error (relative Frobenius), mean_error (|mean - a| / sqrt tr S), ode_change
    (|S(t) - S0|_F / |S0|_F); moments: variant, source (ode | particles, first cloud of the
    largest n), t, a1, a2, S11, S12, S22).
    """
    gen = torch.Generator().manual_seed(seed)
    layers, a0, S0 = gaussian_layers(cfg, gen)
    errors, moments = [], []
    for kind in GAUSSIAN_KINDS:
        refine = 8  # the reference ODE takes 8 RK4 steps per particle step
        ode_times, a, S = integrate_moments(layers[kind], a0, S0, cfg.gauss_t, cfg.gauss_steps * refine)
        moments.append(_moments_table(ode_times, a, S, variant=kind, source="ode"))
        a, S = a[::refine], S[::refine]
        ode_change = relative_frobenius(S, S0)
        for n in cfg.gauss_ns:
            reps = cfg.gauss_reps * max(cfg.gauss_ns) // n  # equal particle count per n
            x0 = _gaussian_cloud(a0, S0, reps, n, gen, _device(cfg))
            times, frames = simulate(layers[kind].velocity, x0, cfg.gauss_t, cfg.gauss_steps)
            mean, cov = mean_and_covariance(frames.double().cpu())  # (F, R, d), (F, R, d, d)
            cov_error = relative_frobenius(cov, S[:, None])
            spread = S.diagonal(dim1=-2, dim2=-1).sum(-1).sqrt()[:, None]
            mean_error = (mean - a[:, None]).norm(dim=-1) / spread
            for f, t in enumerate(times.tolist()):
                for rep in range(reps):
                    errors.append({"variant": kind, "n": n, "rep": rep, "t": t, "cov_error": cov_error[f, rep].item(),
                                   "mean_error": mean_error[f, rep].item(), "ode_change": ode_change[f].item()})
        moments.append(_moments_table(times, mean[:, 0], cov[:, 0], variant=kind, source="particles"))
    return pl.DataFrame(errors), pl.concat(moments)


def _moments_table(times, a, S, **labels) -> pl.DataFrame:
    return pl.DataFrame({**{k: [v] * len(times) for k, v in labels.items()}, "t": times.numpy(),
                         "a1": a[:, 0].numpy(), "a2": a[:, 1].numpy(), "S11": S[:, 0, 0].numpy(),
                         "S12": S[:, 0, 1].numpy(), "S22": S[:, 1, 1].numpy()})


def moment_error_summary(table: pl.DataFrame) -> pl.DataFrame:
    """Per variant and n: the worst error over time, averaged over repetitions; and the
    fitted exponent of that error vs n (column rate, repeated on each row of the variant)."""
    worst = (table.group_by("variant", "n", "rep").agg(pl.col("cov_error", "mean_error").max())
             .group_by("variant", "n").agg(pl.col("cov_error", "mean_error").mean()).sort("variant", "n"))
    rates = pl.DataFrame([{"variant": variant, "rate": loglog_slope(g["n"], g["cov_error"])}
                          for (variant,), g in worst.group_by("variant")])
    return worst.join(rates, on="variant")


def normality(cfg: Config, seed: int) -> pl.DataFrame:
    """(3) Mardia's skewness and kurtosis of particles from N(a0, S0) over time, softmax vs sigmoid.

    z is the standard score of each statistic under normality, combined over the repetitions
    as mean(z) * sqrt(reps) (again N(0, 1) for Gaussian clouds). Rows: variant, statistic, t, z.
    """
    gen = torch.Generator().manual_seed(seed)
    layers, a0, S0 = gaussian_layers(cfg, gen)
    x0 = _gaussian_cloud(a0, S0, cfg.norm_reps, cfg.norm_n, gen, _device(cfg))
    rows = []
    for kind in ("softmax", "sigmoid"):
        times, frames = simulate(layers[kind].velocity, x0, cfg.norm_t, cfg.norm_steps)
        for statistic, measure in (("skewness", mardia_skewness), ("kurtosis", mardia_kurtosis)):
            z = measure(frames)[1].cpu()  # (F, R)
            rows.append(pl.DataFrame({"variant": kind, "statistic": statistic, "t": times.numpy(),
                                      "z": (z.mean(-1) * math.sqrt(cfg.norm_reps)).numpy()}))
    return pl.concat(rows)


def covariance_regimes(cfg: Config, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(4) 2-D covariance ODE from a grid of trace-one S0, for the four regimes.

    Returns (trajectories: regime, init, t, x, y, z (cone coordinates), x_n, y_n (those of
    S / tr S), eig_ratio; at most ~60 log-spaced frames each) and (signatures: regime,
    signature, value).
    """
    gen = torch.Generator().manual_seed(seed)
    S0 = cone_grid(cfg.regime_grid, 0.8)
    trajectories, signatures = [], []
    with _one_thread():
        for regime in REGIMES:
            attn = regime_attention(regime, gen)
            times, S, blown = evolve(attn, S0, cfg.regime_t, cfg.regime_h, cfg.regime_max_steps)
            signatures += [{"regime": regime, "signature": k, "value": v}
                           for k, v in signature(regime, attn, times, S, blown).items()]
            keep = torch.unique(torch.logspace(0, math.log10(len(times)), 60).round().long().clamp(max=len(times)) - 1)
            cone = cone_coordinates(S[keep])  # (F, B, 3)
            eig = torch.linalg.eigvalsh(S[keep])
            F, B = cone.shape[:2]
            trajectories.append(pl.DataFrame({
                "regime": [regime] * (F * B), "init": np.tile(np.arange(B), F),
                "t": times[keep].reshape(-1).numpy(),
                "x": cone[..., 0].reshape(-1).numpy(), "y": cone[..., 1].reshape(-1).numpy(),
                "z": cone[..., 2].reshape(-1).numpy(),
                "x_n": (cone[..., 0] / cone[..., 2]).reshape(-1).numpy(),
                "y_n": (cone[..., 1] / cone[..., 2]).reshape(-1).numpy(),
                "eig_ratio": (eig[..., 0] / eig[..., -1]).reshape(-1).numpy(),
            }))
    return pl.concat(trajectories), pl.DataFrame(signatures)


def stationary_ranks(cfg: Config, seed: int) -> pl.DataFrame:
    """(5) Rank of S at t = rank_t for K = -Q, Q in R^{(d//2) x d}, V = I or random SPD.

    Theory: tr(V^-1 S)' = -2 |Q S|_F^2 / sqrt d, so Q S -> 0 and the rank of the limit is at
    most d - rank Q = ceil(d / 2) (exactly that for V = I, where S = (S0^-1 + 2t Q^T Q / sqrt d)^-1).
    Rows: d, values, draw, rank, bound.
    """
    gen = torch.Generator().manual_seed(seed)
    rows = []
    with _one_thread():
        for d in cfg.rank_dims:
            B, m = cfg.rank_draws, d // 2
            Q = torch.randn(B, m, d, generator=gen, dtype=F64)
            G = torch.randn(B, d, 2 * d, generator=gen, dtype=F64)
            S0 = G @ G.mT / (2 * d)
            for values in ("identity", "random SPD"):
                if values == "identity":
                    V = torch.eye(d, dtype=F64).expand(B, d, d)
                else:
                    H = torch.randn(B, d, 2 * d, generator=gen, dtype=F64)
                    V = H @ H.mT / (2 * d)
                _, S, _ = evolve(Attention("softmax", Q, -Q, V), S0, cfg.rank_t, cfg.regime_h,
                                 max_steps=10**6, save_every=10**9)
                eigvals = torch.linalg.eigvalsh(S[-1])
                rank = (eigvals > cfg.rank_tol * eigvals[..., -1:]).sum(-1)
                rows += [{"d": d, "values": values, "draw": i, "rank": int(r), "bound": d - m}
                         for i, r in enumerate(rank)]
    return pl.DataFrame(rows)


def causal_clustering(cfg: Config, seed: int) -> pl.DataFrame:
    """(6) Tokens on the unit sphere with Q = K = (beta sqrt d)^1/2 I (scores beta <x_i, x_j>),
    V = I, under causal (masked) and full softmax attention: clusters vs time.

    Rows: mask, t, clusters (components of the graph of tokens closer than cluster_eps).
    """
    gen = torch.Generator().manual_seed(seed)
    d = cfg.cluster_d
    x0 = torch.randn(cfg.cluster_n, d, generator=gen).to(_device(cfg))
    scale = torch.eye(d) * math.sqrt(cfg.cluster_beta * math.sqrt(d))
    rows = []
    for mask, kind in (("causal", "causal"), ("none", "softmax")):
        layer = Attention(kind, scale, scale, torch.eye(d))
        times, frames = simulate(layer.velocity, x0, cfg.cluster_t, cfg.cluster_steps,
                                 max(1, cfg.cluster_steps // 100), sphere=True)
        rows += [{"mask": mask, "t": t, "clusters": count_clusters(x, cfg.cluster_eps)}
                 for t, x in zip(times.tolist(), frames)]
    return pl.DataFrame(rows)
