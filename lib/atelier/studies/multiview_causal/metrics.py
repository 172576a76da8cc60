"""Errors between an estimated and a true causal model: order, effects, unmixing, edges."""

from __future__ import annotations

import numpy as np
from scipy import stats


def amari_distance(W: np.ndarray, A: np.ndarray) -> float:
    """Amari distance of the gain G = W A from a scaled permutation, in [0, 1].

    d = (sum_rows (sum_j |G_ij| / max_j |G_ij| - 1) + same over columns) / (2 p (p - 1)):
    0 iff W inverts A up to scale and permutation (the ICA indeterminacy), 1 at worst.
    """
    G = np.abs(W @ A)
    p = G.shape[0]
    rows = (G.sum(axis=1) / G.max(axis=1) - 1).sum()
    cols = (G.sum(axis=0) / G.max(axis=0) - 1).sum()
    return float((rows + cols) / (2 * p * (p - 1)))


def exact_order_error(order: np.ndarray, true_order: np.ndarray) -> float:
    """1 if the estimated causal order differs from the true one anywhere, else 0."""
    return float(not np.array_equal(np.asarray(order), np.asarray(true_order)))


def positions(order: np.ndarray) -> np.ndarray:
    """Position of each variable in ``order`` (root first): positions(order)[order[k]] = k."""
    return np.argsort(order)


def order_spearman(order: np.ndarray, true_order: np.ndarray) -> float:
    """Spearman correlation between the variables' positions in the two orders (1 = same)."""
    return float(stats.spearmanr(positions(order), positions(true_order)).statistic)


def chance_exact_order_error(n_vars: int) -> float:
    """Exact-order error of a uniformly random order when the true order is unique: 1 - 1/p!."""
    return 1.0 - 1.0 / float(np.prod(np.arange(1, n_vars + 1)))


def order_violations(order: np.ndarray, B: np.ndarray) -> float:
    """Fraction of the true edges x_b -> x_a (B[a, b] != 0) that ``order`` puts backwards.

    Equals the exact-order error's 0 when the order is one of the graph's topological orders,
    so it also scores sparse graphs, which have several valid orders.
    """
    pos = positions(order)
    a, b = np.nonzero(B)
    return float(np.mean(pos[b] > pos[a])) if a.size else 0.0


def mse(B_est: np.ndarray, B: np.ndarray) -> float:
    """Mean squared error of the causal-effect matrices over views and entries."""
    return float(np.mean((B_est - B) ** 2))


def edge_f1(est: np.ndarray, true: np.ndarray) -> float:
    """F1 score of the directed edges of ``est`` (bool (p, p)) against ``true`` (diagonal ignored)."""
    off = ~np.eye(true.shape[0], dtype=bool)
    est, true = est & off, true & off
    tp = np.sum(est & true)
    denom = est.sum() + true.sum()
    return float(2 * tp / denom) if denom else 1.0


def chance_edge_f1(true: np.ndarray, n_draws: int, rng: np.random.Generator) -> float:
    """Mean F1 of random DAGs with the same number of edges as ``true`` (Monte Carlo).

    A random DAG: a uniformly random order and as many edges as ``true`` placed uniformly among
    the pairs that the order allows.
    """
    p = true.shape[0]
    k = int(np.sum(true & ~np.eye(p, dtype=bool)))
    lower = np.flatnonzero(np.tril(np.ones((p, p), dtype=bool), k=-1))  # cells of a lower T
    scores = []
    for _ in range(n_draws):
        T = np.zeros(p * p, dtype=bool)
        T[rng.choice(lower, size=k, replace=False)] = True
        pos = rng.permutation(p)
        scores.append(edge_f1(T.reshape(p, p)[np.ix_(pos, pos)], true))
    return float(np.mean(scores))


def consensus_order(orders: np.ndarray) -> np.ndarray:
    """One order from several (m, p): variables sorted by their mean position (Borda count)."""
    return np.argsort(np.mean([positions(o) for o in orders], axis=0), kind="stable")
