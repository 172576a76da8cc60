"""Measurements on particle clouds and covariances: Wasserstein distances, normality, clusters.

Wasserstein distances come from POT (exact ``ot.emd2`` and Monte-Carlo sliced), normality is
Mardia's multivariate skewness and kurtosis (affine invariant, so unchanged by any affine flow,
the kind the Transformer PDE induces on Gaussians), clusters are the connected components of
the eps-neighbourhood graph.
"""

from __future__ import annotations

import numpy as np
import ot
import scipy.sparse.csgraph
import torch


def _np(x) -> np.ndarray:
    return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float64)


def wasserstein2(x, y) -> float:
    """Exact W2 between the uniform empirical measures on the rows of x (n, d) and y (m, d)."""
    x, y = _np(x), _np(y)
    cost = ot.dist(x, y)  # squared Euclidean
    return float(np.sqrt(max(ot.emd2(ot.unif(len(x)), ot.unif(len(y)), cost, numItermax=10**7), 0.0)))


def sliced_wasserstein2(x, y, projections: int = 256, seed: int = 0) -> float:
    """Sliced W2 (mean over random directions of the 1-D W2^2, then the square root)."""
    return float(ot.sliced_wasserstein_distance(_np(x), _np(y), n_projections=projections, p=2, seed=seed))


def _whiten(x: torch.Tensor) -> torch.Tensor:
    """Centred clouds x (..., n, d) in coordinates where their 1/n covariance is the identity,
    so that <w_i, w_j> = (x_i - mean)^T S^-1 (x_j - mean)."""
    mean, S = mean_and_covariance(x.double())
    root = torch.linalg.cholesky(S)  # S = L L^T
    xc = x.double() - mean.unsqueeze(-2)
    return torch.linalg.solve_triangular(root, xc.transpose(-1, -2), upper=False).transpose(-1, -2)


def mardia_kurtosis(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mardia's kurtosis b2 of clouds x (..., n, d) and its standard score under normality.

    b2 = mean_i ((x_i - mean)^T S^-1 (x_i - mean))^2, S the 1/n covariance. For a Gaussian sample
    E b2 = d(d+2)(n-1)/(n+1) and Var b2 ~ 8 d(d+2) / n, so z ~ N(0, 1).
    """
    n, d = x.shape[-2:]
    b2 = (_whiten(x).square().sum(-1) ** 2).mean(-1)
    z = (b2 - d * (d + 2) * (n - 1) / (n + 1)) / np.sqrt(8 * d * (d + 2) / n)
    return b2, z


def mardia_skewness(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mardia's skewness b1 = mean_ij ((x_i - mean)^T S^-1 (x_j - mean))^3 of clouds x (..., n, d)
    and its standard score.

    In whitened coordinates w, b1 = sum_abc (mean_i w_ia w_ib w_ic)^2: the squared norm of the
    third-moment tensor, O(n d^3) instead of an n x n Gram matrix. For a Gaussian sample
    n b1 / 6 ~ chi^2 with f = d(d+1)(d+2)/6 degrees of freedom; the Wilson-Hilferty cube root
    turns it into z ~ N(0, 1).
    """
    n, d = x.shape[-2:]
    w = _whiten(x)
    third = torch.einsum("...na,...nb,...nc->...abc", w, w, w) / n  # (..., d, d, d)
    b1 = third.square().sum((-1, -2, -3))
    f = d * (d + 1) * (d + 2) / 6
    z = ((n * b1 / 6 / f) ** (1 / 3) - (1 - 2 / (9 * f))) / np.sqrt(2 / (9 * f))
    return b1, z


def mean_and_covariance(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample mean (..., d) and 1/n covariance (..., d, d) of clouds x (..., n, d)."""
    mean = x.mean(-2)
    xc = x - mean.unsqueeze(-2)
    return mean, xc.transpose(-1, -2) @ xc / x.shape[-2]


def relative_frobenius(estimate: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """|estimate - reference|_F / |reference|_F over the last two dims."""
    return torch.linalg.matrix_norm(estimate - reference) / torch.linalg.matrix_norm(reference)


def count_clusters(x, eps: float) -> int:
    """Number of connected components of the graph linking tokens closer than ``eps``."""
    x = _np(x)
    adjacency = ot.dist(x, x, metric="euclidean") < eps
    return int(scipy.sparse.csgraph.connected_components(adjacency, directed=False)[0])


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x (the exponent of a power law y ~ x^slope)."""
    return float(np.polyfit(np.log(_np(x)), np.log(_np(y)), 1)[0])


def cone_coordinates(S: torch.Tensor) -> torch.Tensor:
    """2x2 covariances [[a, c], [c, b]] (..., 2, 2) -> (a - b, 2c, a + b) (..., 3).

    The map is linear and sends the PSD cone onto the round cone z >= sqrt(x^2 + y^2); its
    boundary z = sqrt(x^2 + y^2) holds the rank-one matrices, the apex 0.
    """
    a, b, c = S[..., 0, 0], S[..., 1, 1], S[..., 0, 1]
    return torch.stack([a - b, 2 * c, a + b], dim=-1)
