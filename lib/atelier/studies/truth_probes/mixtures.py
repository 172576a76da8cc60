"""Probes meant to work across tasks: one pooled probe, and a mixture gated by task clusters.

The pooled probe is one logistic probe fit on every task at once. The mixture clusters the
training activations with k-means (as many clusters as tasks, no task labels used), fits one
probe per cluster, and scores each example with the probe of its nearest cluster.

Both are tested two ways, always per task (AUROC within a task, so task base rates cannot
inflate it):
- ``in_distribution``: k-fold over all tasks; the target task's other folds are in training.
- ``held_out_task``: trained on the other tasks only, as a universal truth detector meets a
  new task.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from atelier.studies.truth_probes.probes import Fit, auroc, folds


class PooledProbe:
    """One linear probe for all tasks."""

    def __init__(self, fit: Fit):
        self.fit_fn = fit

    def fit(self, X: np.ndarray, y: np.ndarray) -> "PooledProbe":
        self.w = self.fit_fn(X, y)
        return self

    def score(self, X: np.ndarray) -> np.ndarray:
        return X @ self.w


class MixtureProbe:
    """k-means on activations routes each example to its cluster's own probe."""

    def __init__(self, fit: Fit, n_clusters: int, seed: int = 0):
        self.fit_fn, self.n_clusters, self.seed = fit, n_clusters, seed

    def fit(self, X: np.ndarray, y: np.ndarray) -> "MixtureProbe":
        self.kmeans = KMeans(self.n_clusters, n_init=4, random_state=self.seed).fit(X)
        self.w = np.zeros((self.n_clusters, X.shape[1]))  # a one-class cluster keeps w = 0
        for c in range(self.n_clusters):
            yc = y[self.kmeans.labels_ == c]
            if 0 < yc.sum() < len(yc):
                self.w[c] = self.fit_fn(X[self.kmeans.labels_ == c], yc)
        return self

    def score(self, X: np.ndarray) -> np.ndarray:
        cluster = self.kmeans.predict(X)  # [N]
        return np.einsum("nd,nd->n", X, self.w[cluster])


def make_probe(kind: str, fit: Fit, n_clusters: int, seed: int):
    """A fresh ``pooled`` or ``mixture`` probe (the mixture with ``n_clusters`` clusters)."""
    if kind == "pooled":
        return PooledProbe(fit)
    if kind == "mixture":
        return MixtureProbe(fit, n_clusters, seed)
    raise ValueError(f"unknown probe kind {kind!r}; valid kinds: pooled, mixture")


def in_distribution(kind: str, X: np.ndarray, y: np.ndarray, task: np.ndarray, names: list[str],
                    fit: Fit, n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """Per-task AUROC [T] of out-of-fold scores; folds are stratified by (task, label)."""
    strata = np.char.add(task.astype(str), y.astype(int).astype(str))  # task and label
    splits = folds(strata, n_folds, seed)
    if not splits:
        return np.full(len(names), np.nan)
    scores = np.empty(len(y))
    for train, test in splits:
        probe = make_probe(kind, fit, len(names), seed).fit(X[train], y[train])
        scores[test] = probe.score(X[test])
    return np.array([auroc(y[task == t], scores[task == t]) for t in names])


def held_out_task(kind: str, X: np.ndarray, y: np.ndarray, task: np.ndarray, names: list[str],
                  fit: Fit, seed: int = 0) -> np.ndarray:
    """Per-task AUROC [T] of a probe trained on all the other tasks."""
    result = []
    for t in names:
        probe = make_probe(kind, fit, len(names) - 1, seed).fit(X[task != t], y[task != t])
        result.append(auroc(y[task == t], probe.score(X[task == t])))
    return np.array(result)

