"""Training: objectives, LR schedules, SDE batch-size rescaling, the LightningModule, fit and launch.

In a notebook::

    from atelier import train
    cfg = train.TrainConfig(steps=300, lr=3e-3, warmup_steps=30)
    result = train.fit(cfg, model, train.NextTokenLoss(), train_loader, val_loader)
    result.metrics  # polars: step, loss, lr, grad_norm, tokens, tokens_per_s, mfu, val_loss, ...

``launch`` runs the same training as a torchrun (or srun) subprocess on several devices.
"""

from atelier.train.config import TrainConfig
from atelier.train.fit import FitResult, evaluate, fit
from atelier.train.lean import train_lean
from atelier.train.launch import LaunchResult, TrainingJob, build_job, launch
from atelier.train.logger import ParquetLogger
from atelier.train.module import LanguageModel, param_groups
from atelier.train.objectives import NextTokenLoss, Objective
from atelier.train.schedules import SCHEDULES, Schedule, lr_factor
from atelier.train.sde import adamw_timescale, sde_rescale, weight_decay_for_timescale
from atelier.train.throughput import ThroughputMFU, counted_flops_per_token, flops_per_token, measure_peak_flops

__all__ = [
    "SCHEDULES", "FitResult", "LanguageModel", "LaunchResult", "NextTokenLoss", "Objective", "ParquetLogger",
    "Schedule", "ThroughputMFU", "TrainConfig", "TrainingJob", "adamw_timescale", "build_job",
    "counted_flops_per_token", "evaluate", "fit", "flops_per_token", "launch", "lr_factor", "measure_peak_flops",
    "param_groups", "sde_rescale", "train_lean", "weight_decay_for_timescale",
]
