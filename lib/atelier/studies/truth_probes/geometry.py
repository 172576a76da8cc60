"""How activations of different tasks sit relative to each other: PCA, silhouette, task decoding.

If each task occupies its own region of activation space, a truth direction learned inside
one region has no reason to mean anything in another: this is the paper's explanation of why
probes do not transfer.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import silhouette_score

from atelier.studies.truth_probes.probes import folds


def pca_2d(X: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """First two principal components [N, 2] and their explained variance ratios [2]."""
    pca = PCA(2, random_state=seed).fit(X)
    return pca.transform(X), pca.explained_variance_ratio_


def silhouette(X: np.ndarray, task: np.ndarray) -> float:
    """Mean silhouette of the task labels (1: tight separate clusters, 0: overlapping)."""
    return float(silhouette_score(X, task)) if len(np.unique(task)) > 1 else float("nan")


def task_decoding_accuracy(X: np.ndarray, task: np.ndarray, n_folds: int = 5, seed: int = 0,
                           C: float = 0.05) -> float:
    """Held-out accuracy of a linear (multinomial logistic) classifier of the task."""
    splits = folds(task, n_folds, seed)
    if not splits:
        return float("nan")
    right = 0
    for train, test in splits:
        clf = LogisticRegression(C=C, max_iter=2000).fit(X[train], task[train])
        right += int((clf.predict(X[test]) == task[test]).sum())
    return right / len(task)
