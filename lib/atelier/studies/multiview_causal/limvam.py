"""ICA-LiMVAM: causal effects and a shared causal order from multi-view ICA unmixing matrices.

For x_i = B_i x_i + s + n_i the unmixing matrix of view i is W_i = I - B_i, known up to a
permutation and a scaling of its rows. ICA-LiMVAM (Heurtebise et al. 2025):

1. multi-view ICA (ShICA-ML, ShICA-J or MultiViewICA) gives W_i;
2. one row permutation for all views, chosen so that no diagonal entry is (near) zero:
   linear_sum_assignment on 1 / sum_i |W_i|;
3. rows scaled so that diag(W_i) = 1, and B_i = I - W_i;
4. the causal order from mean_i |B_i|: zero its smallest entries until it can be permuted to
   lower triangular; T_i = P B_i P^T.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from atelier.studies.multiview_causal.mvica import multiviewica_unmixing
from atelier.studies.multiview_causal.shica import shica_j, shica_ml

ICA_METHODS = ("shica_ml", "shica_j", "multiviewica")


@dataclasses.dataclass(frozen=True)
class CausalFit:
    """What every method returns: effects, orders (one per view) and unmixing matrices."""

    B: np.ndarray  # (m, p, p) estimated causal effects
    orders: np.ndarray  # (m, p) estimated causal order of each view (rows equal for shared orders)
    W: np.ndarray  # (m, p, p) unmixing matrices I - B_i (or ICA's, scaled) for the Amari distance
    seconds: float


def permute_rows(W: np.ndarray) -> np.ndarray:
    """Rows of every W_i (m, p, p) permuted, the same way, so that the diagonals avoid zeros."""
    cost = 1.0 / np.sum(np.abs(W), axis=0)  # (p, p): cost of putting row r at position c
    rows, cols = linear_sum_assignment(cost)
    out = np.empty_like(W)
    out[:, cols] = W[:, rows]
    return out


def topological_order(support: np.ndarray) -> np.ndarray | None:
    """A causal order (roots first) of the graph with edges b -> a where support[a, b], or None.

    Kahn's algorithm: repeatedly take the lowest-index variable with no remaining parent.
    """
    remaining = list(range(support.shape[0]))
    order = []
    while remaining:
        sub = support[np.ix_(remaining, remaining)]
        roots = np.flatnonzero(~sub.any(axis=1))
        if roots.size == 0:
            return None
        order.append(remaining.pop(roots[0]))
    return np.array(order)


def causal_order(M: np.ndarray) -> np.ndarray:
    """The order that makes M (p, p, nonnegative) closest to lower triangular.

    The p(p+1)/2 smallest entries are zeroed (a strictly lower triangular matrix has at least
    that many zeros), then the next smallest one at a time until the support is acyclic.
    """
    p = M.shape[0]
    ranked = np.argsort(M, axis=None)  # flat indices, smallest first
    support = np.ones(p * p, dtype=bool)
    support[ranked[: p * (p + 1) // 2]] = False
    for idx in ranked[p * (p + 1) // 2:]:
        order = topological_order(support.reshape(p, p))
        if order is not None:
            return order
        support[idx] = False
    return topological_order(support.reshape(p, p))


def unmixing(X: np.ndarray, ica: str, seed: int = 0) -> np.ndarray:
    """W (m, p, p) from the multi-view ICA method ``ica`` (one of ICA_METHODS)."""
    if ica == "shica_ml":
        return shica_ml(X, seed=seed).W
    if ica == "shica_j":
        return shica_j(X).W
    if ica == "multiviewica":
        return multiviewica_unmixing(X, seed=seed)
    raise ValueError(f"unknown ica={ica!r}; valid: {', '.join(ICA_METHODS)}")


def ica_limvam(X: np.ndarray, ica: str = "shica_ml", seed: int = 0) -> CausalFit:
    """ICA-LiMVAM on X (m, p, n): effects B_i and the causal order shared by the views."""
    start = time.perf_counter()
    W = permute_rows(unmixing(X, ica, seed))
    W = W / np.diagonal(W, axis1=1, axis2=2)[:, :, None]  # unit diagonal
    B = np.eye(W.shape[1]) - W
    order = causal_order(np.mean(np.abs(B), axis=0))
    seconds = time.perf_counter() - start
    return CausalFit(B=B, orders=np.tile(order, (len(B), 1)), W=W, seconds=seconds)
