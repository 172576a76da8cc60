"""Approximate joint diagonalisation of positive definite matrices by a quasi-Newton method.

Find B such that every B C_i B^T is as diagonal as possible, minimising Pham's criterion

    L(B) = mean_i 1/2 log det diag(B C_i B^T) - log |det B|,

which is 0 up to a constant exactly when all the B C_i B^T are diagonal. B is updated
multiplicatively, B <- (I - step * D) B, where D solves the 2x2 blocks of the Hessian
approximated at a diagonal point (Ablin, Cardoso & Gramfort 2018, "Beyond Pham's algorithm
for joint diagonalization"); a backtracking line search keeps L decreasing.
"""

from __future__ import annotations

import numpy as np


def pham_loss(B: np.ndarray, C: np.ndarray) -> float:
    """Pham's joint-diagonality criterion of B (k, k) for matrices C (m, k, k)."""
    M = B @ C @ B.T  # (m, k, k)
    diag = np.diagonal(M, axis1=1, axis2=2)  # (m, k)
    return float(0.5 * np.mean(np.sum(np.log(diag), axis=1)) - np.linalg.slogdet(B)[1])


def inverse_sqrt(C: np.ndarray) -> np.ndarray:
    """C^{-1/2} of a symmetric positive definite matrix."""
    vals, vecs = np.linalg.eigh(C)
    return (vecs / np.sqrt(vals)) @ vecs.T


def joint_diagonalize(
    C: np.ndarray, max_iter: int = 1000, tol: float = 1e-8, min_curvature: float = 1e-4,
    n_line_search: int = 20,
) -> np.ndarray:
    """B (k, k) that jointly diagonalises the symmetric positive definite C (m, k, k).

    Exactly jointly diagonalisable C_i = A D_i A^T with distinct ratios of the D_i give
    B = A^{-1} up to scale and permutation of the rows.
    """
    if C.ndim != 3 or C.shape[1] != C.shape[2]:
        raise ValueError(f"C must have shape (m, k, k), got {C.shape}")
    C = C / np.trace(C, axis1=1, axis2=2)[:, None, None]  # scale-free: each C_i has trace 1
    k = C.shape[1]
    B = inverse_sqrt(C.mean(axis=0))
    loss = pham_loss(B, C)
    for _ in range(max_iter):
        M = B @ C @ B.T  # (m, k, k)
        diag = np.diagonal(M, axis1=1, axis2=2)  # (m, k)
        G = np.mean(M / diag[:, :, None], axis=0) - np.eye(k)  # relative gradient
        if np.max(np.abs(G)) < tol:
            break
        h = np.mean(diag[:, None, :] / diag[:, :, None], axis=0)  # h[a, b] = mean_i M_bb / M_aa
        det = np.maximum(h * h.T - 1, min_curvature)
        np.fill_diagonal(det, 1.0)
        D = (h.T * G - G.T) / det
        np.fill_diagonal(D, 0.0)
        step = 1.0
        for _ in range(n_line_search):
            B_new = B - step * D @ B
            loss_new = pham_loss(B_new, C)
            if loss_new < loss:
                break
            step /= 2
        else:
            break  # no decrease along the direction: converged to numerical precision
        B, loss = B_new, loss_new
    return B
