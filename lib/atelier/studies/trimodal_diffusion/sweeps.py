"""Experiments 2-4 at one (width, budget), the sweep, whose baseline run they share.

- mixing: the share of text, image-text and audio-text examples in the stream;
- noise schedules: the masking schedule alpha(t) used in training (linear, cosine, polynomial),
  all scored with the same schedule-free NELBO estimator;
- batch size: physical batches k x the logical batch with the Adam SDE rule (lr sqrt(k),
  1 - beta times k, eps / sqrt(k), steps / k) and without it (same hyperparameters, steps / k),
  at the same tokens. Every run reads the same example stream and starts from the same init.

Experiment 5 samples from one more run of the sweep width: an image-heavy mixture for a longer budget.
"""

from __future__ import annotations

import polars as pl

from atelier.studies.trimodal_diffusion.config import BALANCED, Config
from atelier.studies.trimodal_diffusion.data import KINDS, StudyData
from atelier.studies.trimodal_diffusion.evaluation import modality_losses
from atelier.studies.trimodal_diffusion.models import build_model
from atelier.studies.trimodal_diffusion.training import Trained, diffusion_objective, train_budgets, train_config


def mixture_name(weights) -> str:
    return ":".join(f"{w:g}" for w in weights)


def _run(cfg: Config, data: StudyData, seed: int, name: str, weights=BALANCED, noise_schedule: str | None = None,
         batch_factor: float = 1.0, sde: bool = True, budget: int | None = None) -> Trained:
    """One WSD run of the sweep model at the sweep budget (or `budget` steps)."""
    budget = budget or cfg.sweep_budget
    batch_size = round(cfg.batch_size * batch_factor)
    dataset = data.datamodule(weights, examples=budget * cfg.batch_size, seed=seed).datasets["train"]
    model = build_model(cfg, len(data.vocab), cfg.sweep_width, cfg.depth, seed)
    config = train_config(cfg, budget, seed, batch_factor, sde)
    objective = diffusion_objective(noise_schedule or cfg.noise_schedule, data.vocab.mask_id, cfg.polynomial_p)
    return train_budgets(model, [config], dataset, batch_size, objective, name)[0]


def _losses(trained: Trained, cfg: Config, data: StudyData, batches: list[dict], seed: int) -> dict[str, float]:
    return modality_losses(trained.model, batches, data.vocab.mask_id, cfg.eval_passes, seed)


def sampling_model(cfg: Config, data: StudyData, seed: int) -> Trained:
    """The model the sampling experiment draws from: the sweep width on cfg.sampler_mixture for
    cfg.sampler_budget steps, its audio-text the prompted words' speech alone (StudyData.prompted):
    a spoken-word classifier judges its text-to-speech samples, and among the pool's 300 texts the
    ten prompted words are too rare for this model to learn to say them (accuracy 0.09, chance 0.1)."""
    return _run(cfg, data.prompted(), seed, f"sampler-{mixture_name(cfg.sampler_mixture)}", cfg.sampler_mixture,
                budget=cfg.sampler_budget)


def sweep_baseline(cfg: Config, data: StudyData, seed: int) -> Trained:
    """The sweep's baseline: balanced mixture, cfg.noise_schedule, the logical batch."""
    return _run(cfg, data, seed, "sweep-baseline")


def mixing(cfg: Config, data: StudyData, batches: list[dict], seed: int, baseline: Trained) -> pl.DataFrame:
    """Per-modality validation NELBO of each mixture (text:image:audio weights)."""
    rows = []
    for weights in cfg.mixtures:
        trained = baseline if weights == BALANCED else _run(cfg, data, seed, f"mix-{mixture_name(weights)}", weights)
        shares = {f"share_{k}": w / sum(weights) for k, w in zip(KINDS, weights)}
        rows += [{"mixture": mixture_name(weights), **shares, "modality": m, "loss": v}
                 for m, v in _losses(trained, cfg, data, batches, seed).items()]
    return pl.DataFrame(rows)


def noise_schedules(cfg: Config, data: StudyData, batches: list[dict], seed: int, baseline: Trained
                    ) -> pl.DataFrame:
    """Per-modality validation NELBO of each training noise schedule."""
    rows = []
    for schedule in cfg.noise_schedules:
        trained = baseline if schedule == cfg.noise_schedule else _run(cfg, data, seed, f"sched-{schedule}",
                                                                       noise_schedule=schedule)
        rows += [{"schedule": schedule, "modality": m, "loss": v}
                 for m, v in _losses(trained, cfg, data, batches, seed).items()]
    return pl.DataFrame(rows)


def batch_sizes(cfg: Config, data: StudyData, batches: list[dict], seed: int, baseline: Trained
                ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each physical batch with and without the SDE rule, cfg.batch_budget steps at the logical
    batch: (final validation NELBO per run, training loss curves against sequences seen). The
    sweep's baseline is the logical-batch run where the budgets agree; else it is trained here."""
    if cfg.batch_budget != cfg.sweep_budget:
        baseline = _run(cfg, data, seed, "batch-1", budget=cfg.batch_budget)
    finals, curves = [], []
    for rule, sde in (("SDE rule", True), ("no rule", False)):
        for k in cfg.batch_factors:
            name = f"batch-{k:g}-{'sde' if sde else 'plain'}"
            trained = baseline if k == 1.0 else _run(cfg, data, seed, name, batch_factor=k, sde=sde,
                                                      budget=cfg.batch_budget)
            loss = _losses(trained, cfg, data, batches, seed)["all"]
            batch = round(cfg.batch_size * k)
            finals.append({"rule": rule, "batch_factor": k, "batch_size": batch, "steps": trained.steps,
                           "loss": loss})
            curves.append(trained.curve.with_columns(rule=pl.lit(rule), batch_size=pl.lit(batch)))
    return pl.DataFrame(finals), pl.concat(curves)


def spread(finals: pl.DataFrame) -> pl.DataFrame:
    """Max minus min final loss across physical batch sizes, per rule."""
    return finals.group_by("rule", maintain_order=True).agg(spread=pl.col("loss").max() - pl.col("loss").min())
