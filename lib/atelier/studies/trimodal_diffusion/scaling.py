"""Experiment 1, scaling: >= 4 model sizes x >= 3 token budgets, a law L(N, D) per modality.

Every size has cfg.grid_depth layers: N is varied by width alone, as depth moves the modalities'
losses in different directions at these sizes. Every size reads the same stream of cfg.grid_mixture
and trains once at constant LR with cooldowns branched off for every budget
(training.train_budgets); each model is scored by the per-modality validation NELBO. Per
modality, L(N, D) = E + A / N^alpha + B / D^beta is fitted (atelier.report.fit_scaling_law:
log-space Huber, multi-start L-BFGS) on every size but the largest and tested on the largest
(held-out relative error), as the paper fits its laws per modality. Compute is C = 6 N D
(non-embedding N, tokens D).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from atelier.report import fit_scaling_law, relative_error
from atelier.studies.trimodal_diffusion.config import Config
from atelier.studies.trimodal_diffusion.data import StudyData
from atelier.studies.trimodal_diffusion.evaluation import GROUPS, modality_losses
from atelier.studies.trimodal_diffusion.models import build_model
from atelier.studies.trimodal_diffusion.training import Trained, diffusion_objective, train_budgets, train_config


def scaling_grid(cfg: Config, data: StudyData, batches: list[dict], seed: int
                 ) -> tuple[pl.DataFrame, dict[tuple[int, int], Trained]]:
    """Train every width for every budget; (one row per model and modality, the trained models
    keyed by (width, budget))."""
    dataset = data.datamodule(cfg.grid_mixture, examples=max(cfg.budgets) * cfg.batch_size, seed=seed).datasets["train"]
    rows, models = [], {}
    for width in cfg.widths:
        model = build_model(cfg, len(data.vocab), width, cfg.grid_depth, seed)
        n_params = model.num_params(non_embedding=True)
        configs = [train_config(cfg, budget, seed) for budget in cfg.budgets]
        objective = diffusion_objective(cfg.noise_schedule, data.vocab.mask_id)
        trained_runs = train_budgets(model, configs, dataset, cfg.batch_size, objective, f"grid-w{width}")
        for budget, trained in zip(cfg.budgets, trained_runs):
            models[width, budget] = trained
            losses = modality_losses(trained.model, batches, data.vocab.mask_id, cfg.eval_passes, seed)
            tokens = trained.examples * cfg.seq_len
            rows += [{"width": width, "N": n_params, "steps": budget, "D": tokens, "C": 6.0 * n_params * tokens,
                      "modality": m, "loss": losses[m]} for m in GROUPS]
    return pl.DataFrame(rows), models


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
