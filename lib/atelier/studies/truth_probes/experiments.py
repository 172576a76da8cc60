"""Study 06's experiments, one function per notebook section; each returns polars tables.

All probes read standardised activations: per layer, one StandardScaler fit on the
activations of every question (labels unused), so every task's probe is expressed in the
same coordinates and residual-stream dimensions of huge scale do not dominate.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import polars as pl
from scipy.stats import hypergeom
from sklearn.preprocessing import StandardScaler
from sklearn.svm import l1_min_c

from atelier.studies.truth_probes import geometry, mixtures, probes
from atelier.studies.truth_probes.collect import collect
from atelier.studies.truth_probes.config import Config
from atelier.studies.truth_probes.tasks import build_questions


@dataclasses.dataclass(frozen=True)
class Data:
    """Graded answers and standardised activations per layer."""

    frame: pl.DataFrame  # one row per question: task, question, prefill, gold, answer, correct, ...
    acts: dict[int, np.ndarray]  # layer -> [N, D]

    @property
    def task(self) -> np.ndarray:
        return self.frame["task"].to_numpy()

    @property
    def y(self) -> np.ndarray:
        return self.frame["correct"].to_numpy()

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(self.frame["task"].to_list()))


def answer_questions(cfg: Config, seed: int) -> Data:
    """Build the questions, let SmolLM2 answer, grade, and read activations (cached)."""
    questions = build_questions(cfg.tasks, cfg.n_per_task, seed)
    frame, acts = collect(questions, cfg.layers, cfg.max_new_tokens, cfg.batch_size)
    scaled = {layer: StandardScaler().fit_transform(acts[:, i]) for i, layer in enumerate(cfg.layers)}
    return Data(frame, scaled)


def accuracy_table(data: Data) -> pl.DataFrame:
    """Per task: questions, right and wrong answers, accuracy."""
    return (data.frame.group_by("task", maintain_order=True)
            .agg(n=pl.len(), right=pl.col("correct").sum(), accuracy=pl.col("correct").mean())
            .with_columns(wrong=pl.col("n") - pl.col("right")))


def fits(cfg: Config, seed: int) -> dict[str, probes.Fit]:
    return {"logistic": probes.logistic(cfg.C, seed=seed), "mass_mean": probes.mass_mean}


def transfer(data: Data, cfg: Config, seed: int) -> pl.DataFrame:
    """AUROC of each probe trained on one task and tested on each task, per layer and probe kind."""
    rows = []
    for layer, (kind, fit) in itertools.product(cfg.layers, fits(cfg, seed).items()):
        matrix, _ = probes.transfer_matrix(data.acts[layer], data.y, data.task, data.names, fit,
                                           cfg.n_folds, seed)
        for (i, a), (j, b) in itertools.product(enumerate(data.names), repeat=2):
            rows.append({"layer": layer, "probe": kind, "train_task": a, "test_task": b,
                         "in_task": a == b, "auroc": matrix[i, j]})
    return pl.DataFrame(rows)


def direction_similarity(data: Data, cfg: Config, seed: int) -> pl.DataFrame:
    """Cosine similarity of the full-task probe directions at ``cfg.probe_layer``."""
    X = data.acts[cfg.probe_layer]
    rows = []
    for kind, fit in fits(cfg, seed).items():
        directions = [probes.direction(fit, X[data.task == t], data.y[data.task == t]) for t in data.names]
        cos = probes.cosine_matrix(np.stack(directions))  # [T, T]
        rows += [{"probe": kind, "task_a": a, "task_b": b, "cosine": cos[i, j]}
                 for (i, a), (j, b) in itertools.product(enumerate(data.names), repeat=2)]
    return pl.DataFrame(rows)


def random_jaccard(k: int, d: int) -> float:
    """Expected Jaccard index of two independent uniformly random k-subsets of d features."""
    i = np.arange(k + 1)
    return float((hypergeom(d, k, k).pmf(i) * i / (2 * k - i)).sum())


def sparse_probes(data: Data, cfg: Config, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """L1 logistic paths per task at ``cfg.probe_layer`` and the overlap of their supports.

    Returns (path: task, C, nonzero, cv_auroc at each C; overlap: support size k, task pair,
    Jaccard, and the random-subset expectation). Supports are compared at matched sparsity:
    each task's k largest weights at the strongest regularisation keeping >= k non-zero.
    """
    X = data.acts[cfg.probe_layer]
    path_rows, supports = [], {}
    for t in data.names:
        Xt, yt = X[data.task == t], data.y[data.task == t]
        if len(np.unique(yt)) < 2:
            continue
        Cs = l1_min_c(Xt, yt, loss="log") * np.logspace(0.05, 2.5, cfg.l1_path_points)
        path = probes.l1_path(Xt, yt, Cs, seed)  # [len(Cs), D]
        supports[t] = {k: probes.support_at(path, k) for k in cfg.support_sizes}
        for C, w in zip(Cs, path):
            path_rows.append({"task": t, "C": C, "nonzero": int((w != 0).sum()),
                              "cv_auroc": probes.cv_auroc(Xt, yt, probes.logistic(C, l1=True, seed=seed),
                                                          cfg.n_folds, seed)})
    overlap = [{"k": k, "task_a": a, "task_b": b, "jaccard": probes.jaccard(supports[a][k], supports[b][k]),
                "random": random_jaccard(k, X.shape[1])}
               for k in cfg.support_sizes for a, b in itertools.combinations(supports, 2)]
    return pl.DataFrame(path_rows), pl.DataFrame(overlap)


def cross_task_probes(data: Data, cfg: Config, seed: int) -> pl.DataFrame:
    """Per-task AUROC of the per-task, pooled and mixture probes, in distribution and on held-out tasks."""
    fit = probes.logistic(cfg.C, seed=seed)
    rows = []
    for layer in cfg.layers:
        X = data.acts[layer]
        per_task = [probes.cv_auroc(X[data.task == t], data.y[data.task == t], fit, cfg.n_folds, seed)
                    for t in data.names]
        results = {("per_task", "in_distribution"): per_task}
        for kind in ("pooled", "mixture"):
            results[(kind, "in_distribution")] = mixtures.in_distribution(
                kind, X, data.y, data.task, data.names, fit, cfg.n_folds, seed)
            results[(kind, "held_out_task")] = mixtures.held_out_task(kind, X, data.y, data.task, data.names, fit, seed)
        rows += [{"layer": layer, "method": method, "setting": setting, "task": t, "auroc": float(v)}
                 for (method, setting), values in results.items() for t, v in zip(data.names, values)]
    return pl.DataFrame(rows)


def task_geometry(data: Data, cfg: Config, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """PCA of ``cfg.probe_layer`` activations coloured by task, and per layer the task silhouette
    and the held-out accuracy of a linear task classifier."""
    coords, ratio = geometry.pca_2d(data.acts[cfg.probe_layer], seed)
    pca = data.frame.select("task", "correct").with_columns(
        pc1=pl.Series(coords[:, 0]), pc2=pl.Series(coords[:, 1]),
        pc1_variance=pl.lit(float(ratio[0])), pc2_variance=pl.lit(float(ratio[1])))
    summary = pl.DataFrame([
        {"layer": layer, "silhouette": geometry.silhouette(data.acts[layer], data.task),
         "task_accuracy": geometry.task_decoding_accuracy(data.acts[layer], data.task, cfg.n_folds, seed, cfg.C)}
        for layer in cfg.layers])
    return pca, summary
