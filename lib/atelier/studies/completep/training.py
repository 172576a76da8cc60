"""One training run of the study: a TrainConfig from the study's knobs, the lean loop (atelier.train.train_lean,
the same optimisation as atelier.train.fit without its per-run Trainer set-up), the final validation loss.

Batch size moves by the Adam SDE rule (``sde_rescale``: lr * sqrt(k), 1 - beta * k,
eps / sqrt(k), weight decay * sqrt(k), steps / k), so a run at k times the base batch sees the
same number of tokens. Training uses warmup then cosine decay to zero, and gradient clipping at
``cfg.grad_clip``, far above the typical gradient norm: it only tames the loss spikes that the
best (highest stable) learning rates invite, which would otherwise make the final loss of one
run a matter of chance.

Near the optimal LR the final loss of a short run still varies by a few hundredths of a nat from
one initialisation to the next, as much as it varies between neighbouring LRs; ``seed_losses``
trains ``cfg.seeds`` initialisations (the same ones at every LR and size: common random numbers, so
a seed's offset shifts a whole curve and not its minimum) and ``mean_loss`` averages them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import polars as pl
import torch

from atelier.data.datamodule import TextDataModule
from atelier.studies.completep.config import Config
from atelier.train import NextTokenLoss, TrainConfig, sde_rescale, train_lean


@dataclasses.dataclass(frozen=True)
class RunResult:
    loss: float  # final validation loss (nats per token); nan when training diverged
    metrics: pl.DataFrame  # step, loss, val_loss, lr, grad_norm as fit logs them


def train_config(cfg: Config, log2_lr: float, seed: int, batch_factor: float = 1.0, steps: int | None = None,
                 weight_decay: float | None = None, val_every: int | None = None) -> TrainConfig:
    """The run's optimizer and schedule at the base batch, moved to batch_factor x base batch."""
    steps = steps or cfg.steps
    base = TrainConfig(steps=steps, lr=2.0 ** log2_lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                       weight_decay=cfg.weight_decay if weight_decay is None else weight_decay,
                       warmup_steps=round(cfg.warmup_fraction * steps), schedule="cosine", grad_clip=cfg.grad_clip,
                       seed=seed, log_every=max(1, steps // 12), val_every=val_every)
    return base if batch_factor == 1.0 else sde_rescale(base, batch_factor)


def train_run(model: torch.nn.Module, config: TrainConfig, datamodule: TextDataModule, name: str) -> RunResult:
    """Train ``model`` with ``config`` on ``datamodule`` (``name`` labels the run in errors)."""
    try:
        metrics = train_lean(config, model, NextTokenLoss(), datamodule)
    except RuntimeError as error:
        raise RuntimeError(f"run {name}: {error}") from error
    val = metrics["val_loss"].drop_nulls()
    loss = float(val[-1]) if len(val) else math.nan
    return RunResult(loss=loss if math.isfinite(loss) else math.nan, metrics=metrics)


def seed_losses(build: Callable[[int], torch.nn.Module], config: TrainConfig, datamodule: TextDataModule,
                name: str, seeds: int) -> list[float]:
    """Final validation loss of ``seeds`` initialisations config.seed, config.seed + 1, ... (``build(seed)``
    makes the model); nan for a run that diverged."""
    return [train_run(build(config.seed + i), config, datamodule, f"{name}-s{i}").loss for i in range(seeds)]


def mean_loss(cfg: Config, build: Callable[[int], torch.nn.Module], config: TrainConfig,
              datamodule: TextDataModule, name: str) -> float:
    """Final validation loss averaged over cfg.seeds initialisations; nan when any of them diverged."""
    return float(np.mean(seed_losses(build, config, datamodule, name, cfg.seeds)))
