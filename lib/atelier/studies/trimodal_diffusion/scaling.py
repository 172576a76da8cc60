"""Experiment 1, scaling: >= 4 model sizes x >= 3 token budgets, a law L(N, D) per modality.

Every size has cfg.grid_depth layers: N is varied by width alone, as depth moves the modalities'
losses in different directions at these sizes. Every size reads the same stream of cfg.grid_mixture
and trains once at constant LR with cooldowns branched off for every budget
(training.train_budgets); each model is scored by the per-modality validation NELBO. The grid is
trained cfg.grid_seeds times (replicates: their own initialisation and example stream, the same
validation set and noise), and the laws and the monotonicity are measured on the replicates' mean
loss: at these widths a transition (leaving the grey-level marginals, reading the caption) comes
at a step that varies with the seed, and a single replicate's grid carries that timing noise. Per
modality, L(N, D) = E + A / N^alpha + B / D^beta is fitted (atelier.report.fit_scaling_law:
log-space Huber, multi-start L-BFGS) on every size but the largest and tested on the largest
(held-out relative error), as the paper fits its laws per modality. Compute is C = 6 N D
(non-embedding N, tokens D).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import polars as pl
import torch

from atelier.report import current_run, fit_scaling_law, relative_error
from atelier.studies.trimodal_diffusion.config import Config
from atelier.studies.trimodal_diffusion.data import StudyData
from atelier.studies.trimodal_diffusion.evaluation import GROUPS, modality_losses
from atelier.studies.trimodal_diffusion.models import build_model
from atelier.studies.trimodal_diffusion.training import Trained, diffusion_objective, train_budgets, train_config


def replicate_seeds(cfg: Config, seed: int) -> list[int]:
    """The training seeds of the grid's replicates: disjoint across study seeds (0: 0, 1, 2; 1: 3, 4, 5; ...)."""
    return [seed * cfg.grid_seeds + r for r in range(cfg.grid_seeds)]


def scaling_grid(cfg: Config, data: StudyData, batches: list[dict], seed: int
                 ) -> tuple[pl.DataFrame, dict[tuple[int, int], Trained]]:
    """Train every width for every budget, once per replicate; (one row per replicate, model and
    modality, the first replicate's trained models keyed by (width, budget)).

    The (replicate, width) runs are independent: cfg.grid_workers processes train them side by
    side, widest first, each with cfg.threads torch threads. They are spawned, not forked (a fork
    of a process whose polars or tokenizer thread pools hold a lock deadlocks), and each unpickles
    the data once. A run's numbers do not depend on which process trains it."""
    jobs = sorted(((r, w) for r in range(cfg.grid_seeds) for w in cfg.widths), key=lambda job: -job[1])
    context = (cfg, data, batches, seed, current_run().path)
    if cfg.grid_workers == 1:
        results = [_train_width(job, context) for job in jobs]
    else:
        with ProcessPoolExecutor(cfg.grid_workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_receive, initargs=(context,)) as pool:
            results = list(pool.map(_train_width, jobs))
    grid = pl.DataFrame([row for rows, _ in results for row in rows])
    models = {key: trained for _, job_models in results for key, trained in job_models.items()}
    return grid.sort("replicate", "width", "steps", maintain_order=True), models


_CONTEXT: tuple = ()  # (cfg, data, batches, seed, run dir) of the grid a worker process trains for


def _receive(context: tuple) -> None:
    global _CONTEXT
    _CONTEXT = context


def _train_width(job: tuple[int, int], context: tuple = ()) -> tuple[list[dict], dict[tuple[int, int], Trained]]:
    """One width of one replicate, every budget: its grid rows and (first replicate only) its models."""
    cfg, data, batches, seed, run_dir = context or _CONTEXT
    replicate, width = job
    torch.set_num_threads(cfg.threads)
    train_seed = replicate_seeds(cfg, seed)[replicate]
    dataset = data.datamodule(cfg.grid_mixture, examples=max(cfg.budgets) * cfg.batch_size,
                              seed=train_seed).datasets["train"]
    model = build_model(cfg, len(data.vocab), width, cfg.grid_depth, train_seed)
    n_params = model.num_params(non_embedding=True)
    configs = [train_config(cfg, budget, train_seed) for budget in cfg.budgets]
    objective = diffusion_objective(cfg.noise_schedule, data.vocab.mask_id)
    trained_runs = train_budgets(model, configs, dataset, cfg.batch_size, objective, f"grid-r{replicate}-w{width}",
                                 run_dir=run_dir)
    rows, models = [], {}
    for budget, trained in zip(cfg.budgets, trained_runs):
        if replicate == 0:
            models[width, budget] = trained
        losses = modality_losses(trained.model, batches, data.vocab.mask_id, cfg.eval_passes, seed)
        tokens = trained.examples * cfg.seq_len
        rows += [{"replicate": replicate, "width": width, "N": n_params, "steps": budget, "D": tokens,
                  "C": 6.0 * n_params * tokens, "modality": m, "loss": losses[m]} for m in GROUPS]
    return rows, models


def replicate_mean(grid: pl.DataFrame) -> pl.DataFrame:
    """The grid's loss averaged over its replicates (one row per model size, budget and modality,
    with the number of replicates and their standard deviation)."""
    keys = [c for c in grid.columns if c not in ("replicate", "loss")]
    return grid.group_by(keys, maintain_order=True).agg(
        pl.col("loss").mean(), pl.col("loss").std().fill_null(0.0).alias("loss_std"),
        pl.len().alias("replicates")).sort("modality", "N", "D")


def fit_laws(grid: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per modality, fit on all but the largest N and predict the largest.

    Returns (laws: modality, E, A, alpha, B, beta, max / mean held-out relative error, and the
    max error of the naive prediction that the largest size scores what the next size down
    scored at the same budget: a law only shows that it extrapolates where it beats that, since
    on a grid where N barely moves the loss any predictor is close;
    predictions: the grid with the fitted loss and whether each point was held out)."""
    largest = grid["N"].max()
    laws, predictions = [], []
    for modality in GROUPS:
        rows = grid.filter(pl.col("modality") == modality).sort("N", "D")
        train = rows.filter(pl.col("N") < largest)
        law = fit_scaling_law(train["N"], train["D"], train["loss"])
        held = rows.filter(pl.col("N") == largest)
        errors = relative_error(law, held["N"], held["D"], held["loss"])
        below = train.filter(pl.col("N") == train["N"].max()).select("D", pl.col("loss").alias("below"))
        naive = held.join(below, on="D").select((pl.col("below") / pl.col("loss") - 1).abs())["below"]
        laws.append({"modality": modality, **law.to_dict(), "heldout_max_rel_error": float(errors.max()),
                     "heldout_mean_rel_error": float(errors.mean()), "naive_max_rel_error": float(naive.max())})
        predictions.append(rows.with_columns(fitted=pl.Series(law.predict(rows["N"], rows["D"])),
                                             held_out=pl.col("N") == largest))
    return pl.DataFrame(laws), pl.concat(predictions)


def monotonicity(grid: pl.DataFrame) -> pl.DataFrame:
    """Per modality and axis, the number of adjacent grid steps (one size up at a fixed budget, one
    budget up at a fixed size) along which the loss did not fall, out of how many."""
    out = []
    for modality in GROUPS:
        rows = grid.filter(pl.col("modality") == modality)
        for axis, other in (("N", "D"), ("D", "N")):
            diffs = (rows.sort(other, axis).group_by(other, maintain_order=True)
                     .agg(pl.col("loss").diff().drop_nulls()).explode("loss")["loss"])
            out.append({"modality": modality, "axis": axis, "pairs": len(diffs),
                        "not_falling": int((diffs >= 0).sum()), "largest_rise": float(diffs.max())})
    return pl.DataFrame(out)


def iso_flop_curves(laws: pl.DataFrame, grid: pl.DataFrame, points: int = 40) -> pl.DataFrame:
    """The fitted law of each modality along N at fixed compute C = 6 N D, for the grid's budgets
    of compute (smallest, geometric middle and largest C)."""
    c_min, c_max = grid["C"].min(), grid["C"].max()
    levels = [c_min, float(np.sqrt(c_min * c_max)), c_max]
    sizes = np.geomspace(grid["N"].min() / 2, grid["N"].max() * 2, points)
    rows = []
    for law in laws.iter_rows(named=True):
        for c in levels:
            d = c / (6.0 * sizes)
            fitted = law["E"] + law["A"] / sizes ** law["alpha"] + law["B"] / d ** law["beta"]
            rows += [{"modality": law["modality"], "C": c, "N": float(n), "loss": float(l)}
                     for n, l in zip(sizes, fitted)]
    return pl.DataFrame(rows)
