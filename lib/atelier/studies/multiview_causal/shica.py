"""Shared ICA (ShICA, Richard et al. 2021): multi-view ICA with view-specific noise.

Model: x_i = A_i (s + n_i), s with independent unit-variance components (Gaussian allowed),
n_i ~ N(0, diag(Sigma_i)). Gaussian components are identified by the diversity of their noise
variances Sigma_i across views. Two estimators of the unmixing matrices W_i = A_i^{-1}:

- ShICA-J: multi-set CCA, then joint diagonalisation of the views' source covariances
  I + Sigma_i, then a per-view rescaling so that the shared part has unit variance.
- ShICA-ML: expectation-maximisation of the likelihood with a Gaussian-mixture prior on s
  (0.5 N(0, 0.5) + 0.5 N(0, 1.5), unit variance), started from ShICA-J (or, when more
  likely, from ShICA-J followed by FastICA on the averaged sources). The M-step in W_i
  maximises log|det W_i| - sum_j E(w_j x_i - s_j)^2 / (2 Sigma_ij) one row at a time in closed
  form (the row's optimum solves a quadratic in t = w_j . cofactor_j).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
from scipy import linalg
from sklearn.decomposition import FastICA
from sklearn.exceptions import ConvergenceWarning

from atelier.studies.multiview_causal.jointdiag import joint_diagonalize

PRIOR_VARIANCES = np.array([0.5, 1.5])  # super-Gaussian mixture of unit variance
PRIOR_WEIGHTS = np.array([0.5, 0.5])


@dataclasses.dataclass(frozen=True)
class ShicaResult:
    """Unmixing matrices and noise variances of a ShICA fit (n_iter: EM iterations, 0 for ShICA-J)."""

    W: np.ndarray  # (m, k, k) unmixing matrices, W_i x_i = s + n_i
    noise_var: np.ndarray  # (m, k) Sigma_i
    n_iter: int = 0


def _check(X: np.ndarray) -> np.ndarray:
    """X (m, k, n) centred over samples; any other shape is an error."""
    if X.ndim != 3:
        raise ValueError(f"X must have shape (n_views, n_components, n_samples), got {X.shape}")
    return X - X.mean(axis=2, keepdims=True)


def cross_covariances(X: np.ndarray) -> np.ndarray:
    """C[i, j] = X_i X_j^T / n, shape (m, m, k, k)."""
    return np.einsum("iat,jbt->ijab", X, X) / X.shape[2]


def mcca(C: np.ndarray) -> np.ndarray:
    """Multi-set CCA: the top-k generalised eigenvectors of (cross-cov, block-diag cov), (m, k, k)."""
    m, _, k, _ = C.shape
    full = C.transpose(0, 2, 1, 3).reshape(m * k, m * k)  # blocks C[i, j] at (i k, j k)
    block = linalg.block_diag(*[C[i, i] for i in range(m)])
    _, V = linalg.eigh(full, block, subset_by_index=[m * k - k, m * k - 1])  # (m k, k)
    return V.reshape(m, k, k).transpose(0, 2, 1)  # W_i = V_i^T


def shared_scaling(W: np.ndarray, C: np.ndarray, n_iter: int = 200, tol: float = 1e-10) -> np.ndarray:
    """Rescale the rows of W so that the cross-view covariances of the sources are 1.

    Signs are aligned on view 0, then d minimises sum_{i != j} (d_i c_ij d_j - 1)^2 with
    c_ij = diag(W_i C_ij W_j^T), by exact coordinate updates.
    """
    m, k, _ = W.shape
    c = np.einsum("iab,ijbc,jac->ija", W, C, W)  # (m, m, k): diag(W_i C_ij W_j^T)
    sign = np.sign(c[0])  # (m, k): flip rows to agree with view 0
    sign[0] = 1.0
    W = W * sign[:, :, None]
    c = c * sign[:, None, :] * sign[None, :, :]
    off = ~np.eye(m, dtype=bool)[:, :, None]
    c = np.where(off, c, 0.0)
    d = np.ones((m, k))
    for _ in range(n_iter):
        d_old = d.copy()
        for i in range(m):
            d[i] = np.sum(c[i] * d, axis=0) / np.sum(c[i] ** 2 * d ** 2, axis=0)
        if np.max(np.abs(d - d_old)) < tol:
            break
    return W * d[:, :, None]


def noise_variances(W: np.ndarray, C: np.ndarray, floor: float = 1e-3) -> np.ndarray:
    """Sigma_i = diag(W_i C_ii W_i^T) - 1 (the shared part has unit variance), floored, (m, k)."""
    diag = np.einsum("iab,iibc,iac->ia", W, C, W)
    return np.maximum(diag - 1.0, floor)


def shica_j(X: np.ndarray, max_iter: int = 1000, tol: float = 1e-8) -> ShicaResult:
    """ShICA-J on X (m, k, n): MCCA, joint diagonalisation, scaling."""
    X = _check(X)
    C = cross_covariances(X)
    W = mcca(C)
    cov_y = np.einsum("iab,iibc,idc->iad", W, C, W)  # (m, k, k): Cov(W_i x_i)
    Q = joint_diagonalize(cov_y, max_iter=max_iter, tol=tol)
    W = shared_scaling(Q @ W, C)
    return ShicaResult(W=W, noise_var=noise_variances(W, C))


def _posterior(Y: np.ndarray, noise_var: np.ndarray):
    """E-step: mean and variance of s given y_1..y_m, and the log-likelihood per sample.

    Y (m, k, n), noise_var (m, k). The views combine into ybar = tau2 sum_i y_i / Sigma_i with
    noise variance tau2 = 1 / sum_i 1 / Sigma_i; under mixture component c (variance v_c),
    s | ybar ~ N(v_c / (v_c + tau2) ybar, v_c tau2 / (v_c + tau2)).
    """
    prec = 1.0 / noise_var  # (m, k)
    tau2 = 1.0 / prec.sum(axis=0)  # (k,)
    ybar = tau2[:, None] * np.einsum("ik,ikt->kt", prec, Y)  # (k, n)
    var_c = PRIOR_VARIANCES[:, None, None] + tau2[None, :, None]  # (c, k, 1)
    log_comp = np.log(PRIOR_WEIGHTS)[:, None, None] - 0.5 * (np.log(2 * np.pi * var_c) + ybar ** 2 / var_c)
    log_marg = np.logaddexp.reduce(log_comp, axis=0)  # (k, n): log sum_c pi_c N(ybar; 0, v_c + tau2)
    resp = np.exp(log_comp - log_marg)  # (c, k, n)
    gain = PRIOR_VARIANCES[:, None, None] / var_c  # (c, k, 1)
    mean = np.sum(resp * gain * ybar, axis=0)
    second = np.sum(resp * (gain * tau2[None, :, None] + (gain * ybar) ** 2), axis=0)
    # log p(y_1..y_m | s integrated out), per sample, summed over components
    quad = np.einsum("ik,ikt->kt", prec, Y ** 2) - ybar ** 2 / tau2[:, None]
    log_lik = (-0.5 * np.sum(np.log(2 * np.pi * noise_var)) + 0.5 * np.sum(np.log(2 * np.pi * tau2))
               + np.mean(np.sum(log_marg - 0.5 * quad, axis=0)))
    return mean, second - mean ** 2, log_lik


def _update_rows(W: np.ndarray, C_inv: np.ndarray, R: np.ndarray, noise_var: np.ndarray) -> np.ndarray:
    """Maximise log|det W_i| - sum_j (w_j C_i w_j - 2 w_j r_ij) / (2 sigma_ij) row by row, exactly.

    Batched over the views: W, C_inv = C_i^{-1}, R (m, k, k), noise_var (m, k). With a = the
    cofactor direction of row j (column j of W_i^{-1}) and t = w . a, the optimum is
    w = u + (sigma / t) v, u = C^{-1} r, v = C^{-1} a, where t^2 - alpha t - sigma beta = 0,
    alpha = a . u, beta = a . v > 0; of the two roots (opposite signs) the better is kept.
    """
    W = W.copy()
    for j in range(W.shape[1]):
        a = np.linalg.inv(W)[:, :, j]  # (m, k)
        u = np.einsum("iab,ib->ia", C_inv, R[:, j])
        v = np.einsum("iab,ib->ia", C_inv, a)
        alpha, beta, sigma = np.sum(a * u, axis=1), np.sum(a * v, axis=1), noise_var[:, j]
        disc = np.sqrt(alpha ** 2 + 4 * sigma * beta)
        roots = np.stack([(alpha + disc) / 2, (alpha - disc) / 2])  # (2, m)
        w = u + (sigma / roots)[:, :, None] * v  # (2, m, k)
        # objective of the row: log|t| - (w C w - 2 w r) / (2 sigma), with C w = r + sigma a / t
        Cw = R[:, j] + (sigma / roots)[:, :, None] * a
        value = np.log(np.abs(roots)) - np.sum(w * Cw - 2 * w * R[:, j], axis=2) / (2 * sigma)
        W[:, j] = w[np.argmax(value, axis=0), np.arange(W.shape[0])]
    return W


def log_likelihood(W: np.ndarray, noise_var: np.ndarray, X: np.ndarray) -> float:
    """Mean log-likelihood per sample of centred X (m, k, n) under the ShICA model."""
    return _posterior(W @ X, noise_var)[2] + float(np.sum(np.linalg.slogdet(W)[1]))


def _initialisations(X: np.ndarray, seed: int) -> list[ShicaResult]:
    """ShICA-J, and ShICA-J rotated by FastICA of the averaged sources.

    ShICA-J only uses second-order statistics, so it cannot separate non-Gaussian components
    whose noise variances are the same in every view; FastICA on the average sources can.
    """
    C = cross_covariances(X)
    start = shica_j(X)
    average = np.mean(start.W @ X, axis=0)  # (k, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        R = FastICA(whiten="unit-variance", random_state=seed).fit(average.T).components_
    W = shared_scaling(R @ start.W, C)
    return [start, ShicaResult(W=W, noise_var=noise_variances(W, C))]


def shica_ml(
    X: np.ndarray, max_iter: int = 1000, tol: float = 1e-6, init: ShicaResult | None = None, seed: int = 0,
) -> ShicaResult:
    """ShICA-ML on X (m, k, n): EM until the log-likelihood gain per iteration is below tol.

    Starts from ``init`` or else from the more likely of the two ``_initialisations``.
    """
    X = _check(X)
    if init is None:
        init = max(_initialisations(X, seed), key=lambda r: log_likelihood(r.W, r.noise_var, X))
    W, noise_var = init.W.copy(), init.noise_var.copy()
    n = X.shape[2]
    C_inv = np.linalg.inv(np.einsum("iat,ibt->iab", X, X) / n)  # (m, k, k)
    prev = -np.inf
    for it in range(1, max_iter + 1):
        Y = W @ X  # (m, k, n)
        mean, var, log_lik = _posterior(Y, noise_var)
        log_lik += np.sum(np.linalg.slogdet(W)[1])
        if log_lik - prev < tol:
            break
        prev = log_lik
        noise_var = np.mean((Y - mean) ** 2, axis=2) + var.mean(axis=1)  # (m, k)
        R = np.einsum("kt,iat->ika", mean, X) / n  # (m, k, k): E[s] x_i^T / n
        W = _update_rows(W, C_inv, R, noise_var)
    return ShicaResult(W=W, noise_var=noise_var, n_iter=it)
