"""Linear truth probes on activations: logistic, mass-mean and L1, with held-out AUROC.

A probe is a direction w [D]; its score for an activation x is x . w (an intercept does not
change a ranking, so AUROC ignores it). Every in-task AUROC here is computed on held-out
examples (stratified k-fold, out-of-fold scores); a probe applied to another task is held out
by construction. Activations are standardised by the caller with one shared scaler so
directions of different tasks live in the same coordinates.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

Fit = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (X [N, D], y [N]) -> direction [D]


def auroc(y: np.ndarray, scores: np.ndarray) -> np.ndarray | float:
    """Area under the ROC curve of ``scores`` ([N] or [N, K], one AUROC per column).

    Mann-Whitney form: the mean rank of the positives among all scores (ties share a rank),
    shifted and scaled to [0, 1]; NaN when ``y`` has a single class.
    """
    y = np.asarray(y, bool)
    scores = np.asarray(scores, float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return np.full(scores.shape[1:], np.nan) if scores.ndim > 1 else float("nan")
    ranks = rankdata(scores, axis=0)  # [N] or [N, K]
    result = (ranks[y].sum(0) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(result) if scores.ndim == 1 else result


def mass_mean(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Difference of class means: mean of the right answers minus mean of the wrong ones."""
    y = np.asarray(y, bool)
    return X[y].mean(0) - X[~y].mean(0)


def logistic(C: float = 0.05, l1: bool = False, seed: int = 0) -> Fit:
    """A fit function for an L2 (or L1) regularised logistic probe with inverse strength C."""
    def fit(X: np.ndarray, y: np.ndarray) -> np.ndarray:
        clf = LogisticRegression(C=C, l1_ratio=1.0 if l1 else 0.0, solver="liblinear" if l1 else "lbfgs",
                                 max_iter=2000, random_state=seed)
        return clf.fit(X, y).coef_[0]
    return fit


def direction(fit: Fit, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``fit(X, y)``, or NaNs (scores, AUROCs and cosines then come out NaN) when y has one class."""
    return fit(X, y) if 0 < np.sum(y) < len(y) else np.full(X.shape[1], np.nan)


def folds(labels: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs stratified by ``labels``: fewer folds when a label is rare,
    none when there is a single label or one with a single example."""
    _, counts = np.unique(labels, return_counts=True)
    if len(counts) < 2 or counts.min() < 2:
        return []
    k = min(n_folds, int(counts.min()))
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(labels)), labels))


def cv_auroc(X: np.ndarray, y: np.ndarray, fit: Fit, n_folds: int = 5, seed: int = 0) -> float:
    """AUROC of out-of-fold probe scores (each example scored by a probe that never saw it)."""
    splits = folds(y, n_folds, seed)
    if not splits:
        return float("nan")
    scores = np.empty(len(y))
    for train, test in splits:
        scores[test] = X[test] @ fit(X[train], y[train])
    return auroc(y, scores)


def transfer_matrix(X: np.ndarray, y: np.ndarray, task: np.ndarray, names: list[str], fit: Fit,
                    n_folds: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """AUROC [T, T] of a probe trained on task i (row) and tested on task j (column).

    The diagonal is the cross-validated in-task AUROC; off the diagonal the probe is fit on
    all of task i. Also returns the full-task directions [T, D].
    """
    directions = np.stack([direction(fit, X[task == t], y[task == t]) for t in names])  # [T, D]
    matrix = np.empty((len(names), len(names)))
    for j, t in enumerate(names):
        matrix[:, j] = auroc(y[task == t], X[task == t] @ directions.T)  # [N_j, T] -> [T]
        matrix[j, j] = cv_auroc(X[task == t], y[task == t], fit, n_folds, seed)
    return matrix, directions


def cosine_matrix(directions: np.ndarray) -> np.ndarray:
    """Pairwise cosine similarity [T, T] of probe directions [T, D]."""
    unit = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    return unit @ unit.T


def l1_path(X: np.ndarray, y: np.ndarray, Cs: np.ndarray, seed: int = 0) -> np.ndarray:
    """L1 logistic probe weights [len(Cs), D] along increasing inverse regularisation ``Cs``."""
    return np.stack([logistic(float(C), l1=True, seed=seed)(X, y) for C in Cs])


def support_at(path: np.ndarray, k: int) -> set[int]:
    """The k-feature support of an L1 path (matched sparsity): at the strongest regularisation
    that keeps at least k non-zero weights, the k largest |w|."""
    nonzero = (path != 0).sum(1)
    reached = np.flatnonzero(nonzero >= k)
    w = np.abs(path[reached[0]] if len(reached) else path[-1])
    return set(np.argsort(-w)[:k].tolist())


def jaccard(a: set, b: set) -> float:
    """|a & b| / |a | b| (1 for two empty sets)."""
    union = a | b
    return len(a & b) / len(union) if union else 1.0
