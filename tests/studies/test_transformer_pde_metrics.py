"""Measurements of study 10 against known values: distances, normality statistics, clusters."""

import math

import numpy as np
import torch

from atelier.studies.transformer_pde.metrics import (
    cone_coordinates, count_clusters, loglog_slope, mardia_kurtosis, mardia_skewness, relative_frobenius,
    sliced_wasserstein2, wasserstein2,
)

F64 = torch.float64


def cloud(n, d=2, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_wasserstein_of_identical_and_shifted_clouds():
    x = cloud(200)
    shift = torch.tensor([0.3, -1.2], dtype=F64)
    assert wasserstein2(x, x) < 1e-6  # the square root of a round-off-sized cost
    assert math.isclose(wasserstein2(x, x + shift), shift.norm().item(), rel_tol=1e-8)
    # a subsample of half the points: positive, and symmetric
    assert wasserstein2(x[:100], x) > 0
    assert math.isclose(wasserstein2(x[:100], x), wasserstein2(x, x[:100]), rel_tol=1e-8)


def test_sliced_wasserstein_of_shifted_clouds():
    """Projected on a uniform direction theta, a shift s moves by <s, theta>; E <s, theta>^2 = |s|^2 / d."""
    x = cloud(300)
    shift = torch.tensor([0.3, -1.2], dtype=F64)
    assert sliced_wasserstein2(x, x) < 1e-10
    expected = shift.norm().item() / math.sqrt(2)
    assert math.isclose(sliced_wasserstein2(x, x + shift, projections=4000), expected, rel_tol=0.03)


def test_mardia_statistics_of_gaussian_and_non_gaussian_clouds():
    n = 20000
    gauss = cloud(n, seed=1) @ torch.tensor([[2.0, 0.0], [1.0, 0.5]], dtype=F64)  # affine image of N(0, I)
    assert abs(mardia_kurtosis(gauss)[1]) < 4 and abs(mardia_skewness(gauss[:4000])[1]) < 4
    # uniform coordinates have kurtosis 9/5 each: b2 = 1.8 d + d (d - 1) = 5.6 in d = 2 (8 if Gaussian)
    uniform = torch.rand(n, 2, generator=torch.Generator().manual_seed(2), dtype=F64)
    b2, z = mardia_kurtosis(uniform)
    assert abs(b2 - 5.6) < 0.1 and z < -20
    exponential = -torch.rand(4000, 2, generator=torch.Generator().manual_seed(3), dtype=F64).log()
    assert mardia_skewness(exponential)[1] > 20


def test_mardia_batches_over_leading_dims():
    x = torch.stack([cloud(500, seed=s) for s in range(3)])
    torch.testing.assert_close(mardia_kurtosis(x)[0][1], mardia_kurtosis(x[1])[0])


def test_clusters_counts_separated_blobs():
    centres = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    points = np.concatenate([c + 0.01 * cloud(20, seed=i).numpy() for i, c in enumerate(centres)])
    assert count_clusters(points, eps=0.5) == 3
    assert count_clusters(points, eps=10.0) == 1


def test_loglog_slope_recovers_a_power_law():
    n = np.array([64, 128, 256, 1024])
    assert math.isclose(loglog_slope(n, 3.0 * n**-0.5), -0.5, rel_tol=1e-10)


def test_relative_frobenius():
    S = torch.eye(2, dtype=F64)
    assert math.isclose(relative_frobenius(2 * S, S).item(), 1.0)


def test_cone_coordinates_put_rank_one_on_the_boundary():
    u = torch.tensor([0.6, 0.8], dtype=F64)
    x, y, z = cone_coordinates(3 * torch.outer(u, u))
    assert math.isclose(z.item(), math.hypot(x.item(), y.item()), rel_tol=1e-12)
    x, y, z = cone_coordinates(torch.tensor([[1.0, 0.2], [0.2, 0.5]], dtype=F64))  # positive definite
    assert z > math.hypot(x, y)


def test_skewness_equals_the_pairwise_definition():
    x = torch.rand(300, 3, generator=torch.Generator().manual_seed(5), dtype=F64) ** 2
    xc = x - x.mean(0)
    S = xc.T @ xc / len(x)
    gram = xc @ torch.linalg.solve(S, xc.T)
    torch.testing.assert_close(mardia_skewness(x)[0], (gram**3).mean())
