"""Simulation of the multi-view linear SEM of ICA-LiMVAM.

Each view i = 1..m observes p variables that follow the same causal order::

    x_i = B_i x_i + e_i,   B_i = P^T T_i P,   e_i = s + n_i,   n_i ~ N(0, diag(sigma_i^2))

T_i is strictly lower triangular (its entries differ across views), P is the permutation
matrix of a causal order shared by the views, s holds p independent unit-variance shared
components (Laplace or Gaussian) and n_i is view-specific Gaussian noise. Gaussian
components are identifiable only through the diversity of their noise variances across
views, which is the point of the paper; ``n_equal`` views get one noise variance for all
their Gaussian components, the failure mode.

Conventions: ``order`` lists the variables from root to sink, ``P = I[order]`` so that
``T = P B P^T``; ``B[i, j] != 0`` means x_j -> x_i.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class MultiViewSample:
    """Observations and ground truth of one draw of the multi-view SEM."""

    X: np.ndarray  # (m, p, n) observations
    B: np.ndarray  # (m, p, p) causal effects, B[i, a, b] = effect of x_b on x_a in view i
    order: np.ndarray  # (p,) causal order, root first
    sources: np.ndarray  # (p, n) shared components s
    noise_std: np.ndarray  # (m, p) sigma_i, std of the view-specific noise
    gaussian: np.ndarray  # (p,) bool, which shared components are Gaussian

    @property
    def mixing(self) -> np.ndarray:
        """A_i = (I - B_i)^-1, (m, p, p): x_i = A_i e_i."""
        return np.linalg.inv(np.eye(self.B.shape[1]) - self.B)

    @property
    def T(self) -> np.ndarray:
        """T_i = P B_i P^T, strictly lower triangular, (m, p, p)."""
        return self.B[:, self.order][:, :, self.order]


def random_dag_effects(
    rng: np.random.Generator, n_views: int, n_vars: int, order: np.ndarray, n_edges: int | None = None,
    weight_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """B_i = P^T T_i P with a support shared by the views and view-specific weights, (m, p, p).

    The support is the full lower triangle of T, or ``n_edges`` of its cells drawn uniformly.
    Weights are standard normal, or of magnitude uniform in ``weight_range`` with a random sign
    that is shared by the views (so the views agree on what each edge does).
    """
    cells = np.flatnonzero(np.tril(np.ones((n_vars, n_vars), dtype=bool), k=-1))
    if n_edges is not None and not 0 <= n_edges <= cells.size:
        raise ValueError(f"n_edges={n_edges} must be between 0 and {cells.size} for {n_vars} variables")
    support = np.zeros(n_vars * n_vars, dtype=bool)
    support[cells if n_edges is None else rng.choice(cells, size=n_edges, replace=False)] = True
    if weight_range is None:
        T = rng.standard_normal((n_views, n_vars, n_vars))
    else:
        sign = rng.choice([-1.0, 1.0], size=(n_vars, n_vars))
        T = sign * rng.uniform(*weight_range, size=(n_views, n_vars, n_vars))
    T = T * support.reshape(n_vars, n_vars)
    inverse = np.argsort(order)  # position of each variable in the order
    return T[:, inverse][:, :, inverse]  # B[a, b] = T[pos(a), pos(b)]


def shared_components(rng: np.random.Generator, n_vars: int, n_samples: int, n_gaussian: int) -> tuple:
    """s: p unit-variance components, the last ``n_gaussian`` Gaussian, the others Laplace."""
    laplace = rng.laplace(scale=1 / np.sqrt(2), size=(n_vars - n_gaussian, n_samples))
    gauss = rng.standard_normal((n_gaussian, n_samples))
    gaussian = np.arange(n_vars) >= n_vars - n_gaussian
    return np.vstack([laplace, gauss]), gaussian


def noise_levels(
    rng: np.random.Generator, n_views: int, gaussian: np.ndarray, noise_level: float, n_equal: int,
) -> np.ndarray:
    """sigma_i (m, p): 1/2 on non-Gaussian components, U(0, 1) on Gaussian ones, times noise_level.

    In ``n_equal`` randomly chosen views all Gaussian components get the same sigma, which
    removes the variance diversity that identifies them there.
    """
    if not 0 <= n_equal <= n_views:
        raise ValueError(f"n_equal={n_equal} must be between 0 and n_views={n_views}")
    sigma = np.where(gaussian, rng.uniform(size=(n_views, gaussian.size)), 0.5)
    if gaussian.any():
        equal_views = rng.choice(n_views, size=n_equal, replace=False)
        first = np.argmax(gaussian)
        sigma[np.ix_(equal_views, np.flatnonzero(gaussian))] = sigma[equal_views, first][:, None]
    return noise_level * sigma


def simulate(
    rng: np.random.Generator, n_views: int, n_vars: int, n_samples: int, n_gaussian: int,
    noise_level: float = 1.0, n_equal: int = 0, n_edges: int | None = None,
    weight_range: tuple[float, float] | None = None,
) -> MultiViewSample:
    """One draw of the multi-view SEM (see the module docstring)."""
    if not 0 <= n_gaussian <= n_vars:
        raise ValueError(f"n_gaussian={n_gaussian} must be between 0 and n_vars={n_vars}")
    order = rng.permutation(n_vars)
    B = random_dag_effects(rng, n_views, n_vars, order, n_edges, weight_range)
    sources, gaussian = shared_components(rng, n_vars, n_samples, n_gaussian)
    sigma = noise_levels(rng, n_views, gaussian, noise_level, n_equal)
    E = sources + sigma[:, :, None] * rng.standard_normal((n_views, n_vars, n_samples))  # (m, p, n)
    A = np.linalg.inv(np.eye(n_vars) - B)
    X = A @ E  # (m, p, p) @ (m, p, n) -> (m, p, n)
    return MultiViewSample(X=X, B=B, order=order, sources=sources, noise_std=sigma, gaussian=gaussian)
