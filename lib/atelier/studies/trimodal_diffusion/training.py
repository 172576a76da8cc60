"""Training runs: WSD schedules whose token budgets branch off one constant-LR run.

A WSD run of S steps is warmup, then a constant LR, then a linear decay to zero over the last
decay_fraction * S steps. Up to its decay it is identical, step for step, to the constant-LR
run of any longer budget (same seed, same init, same example stream). So one constant run to
the start of the largest budget's decay, with a snapshot of model and AdamW state at the
start of each budget's decay, plus one short cooldown per budget from its snapshot, gives the
same models as separate WSD runs for every budget at ~1 + decay_fraction times the cost of the
largest one (Hagele et al. 2024, "Scaling laws and compute-optimal training beyond fixed
training durations").

Batch size moves by the Adam SDE rule (atelier.train.sde_rescale) or, without it, by keeping
every hyperparameter and only dividing the step counts by k (same tokens).
"""

from __future__ import annotations

import copy
import dataclasses

import lightning as L
import polars as pl
import torch
from torch.utils.data import Dataset

from atelier.diffusion import MaskedDiffusionLoss, get_schedule
from atelier.studies.trimodal_diffusion.config import Config
from atelier.studies.trimodal_diffusion.data import stream
from atelier.train import TrainConfig, fit, sde_rescale


class Snapshots(L.Callback):
    """Copies of the model and optimizer state after each of the given optimizer steps."""

    def __init__(self, steps):
        self.steps, self.states = set(steps), {}

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        step = trainer.global_step
        if step in self.steps and step not in self.states:
            self.states[step] = (copy.deepcopy(pl_module.model.state_dict()),
                                 copy.deepcopy(trainer.optimizers[0].state_dict()))


class ResumeOptimizer(L.Callback):
    """Loads a saved AdamW state (moments, step counts) before the first step."""

    def __init__(self, state: dict):
        self.state = state

    def on_train_start(self, trainer, pl_module):
        trainer.optimizers[0].load_state_dict(self.state)


@dataclasses.dataclass
class Trained:
    """One budget of a run: the model after its cooldown and its training loss curve."""

    model: torch.nn.Module
    steps: int  # optimizer steps at the physical batch
    examples: int  # sequences seen
    curve: pl.DataFrame  # step, examples, loss


def train_config(cfg: Config, steps: int, seed: int, batch_factor: float = 1.0, sde: bool = True) -> TrainConfig:
    """WSD at the logical batch for `steps` steps, moved to batch_factor x the logical batch: by
    the SDE rule, or (sde=False) keeping every hyperparameter at the same number of tokens."""
    base = TrainConfig(steps=steps, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps,
                       weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_steps, schedule="wsd",
                       decay_fraction=cfg.decay_fraction, grad_clip=None, seed=seed,
                       log_every=max(1, round(steps / batch_factor) // 24))
    if batch_factor == 1.0:
        return base
    if sde:
        return sde_rescale(base, batch_factor)
    return dataclasses.replace(base, steps=round(steps / batch_factor),
                               warmup_steps=round(cfg.warmup_steps / batch_factor))


def diffusion_objective(noise_schedule: str, mask_id: int, polynomial_p: float = 2.0) -> MaskedDiffusionLoss:
    """The masked-diffusion NELBO under a named training schedule (polynomial: alpha = 1 - t^p)."""
    kwargs = {"p": polynomial_p} if noise_schedule == "polynomial" else {}
    return MaskedDiffusionLoss(get_schedule(noise_schedule, **kwargs), mask_id)


def train_budgets(model: torch.nn.Module, configs: list[TrainConfig], dataset: Dataset, batch_size: int,
                  objective, name: str, run_dir=None) -> list[Trained]:
    """Train `model` on `objective` under each WSD config (they differ only in steps): one
    constant-LR run and one cooldown per config, branched from the snapshot at the start of its
    decay. dataset: the example stream (a run reads its prefix); metrics go to
    <run_dir or the current run>/metrics/<name>-*.parquet."""
    starts = [round(c.steps * (1 - c.decay_fraction)) for c in configs]  # first step of each decay
    longest = configs[starts.index(max(starts))]
    stable = dataclasses.replace(longest, schedule="constant", steps=max(starts))
    snapshots = Snapshots(starts)
    run = fit(stable, model, objective, stream(dataset, 0, max(starts) * batch_size, batch_size),
              run_dir=run_dir, name=f"{name}-stable", callbacks=[snapshots])
    trained = []
    for config, start in zip(configs, starts):
        model_state, optimizer_state = snapshots.states[start]
        branch = copy.deepcopy(run.model)
        branch.load_state_dict(model_state)
        cooldown = dataclasses.replace(config, schedule="linear", warmup_steps=0, steps=config.steps - start,
                                       min_lr_factor=0.0)
        done = fit(cooldown, branch, objective, stream(dataset, start * batch_size, config.steps * batch_size,
                                                       batch_size),
                   run_dir=run_dir, name=f"{name}-{config.steps}", callbacks=[ResumeOptimizer(optimizer_state)])
        curve = pl.concat([run.metrics.filter(pl.col("step") <= start).select("step", "loss"),
                           done.metrics.select(pl.col("step") + start, "loss")]).drop_nulls()
        trained.append(Trained(done.model, config.steps, config.steps * batch_size,
                               curve.with_columns(examples=pl.col("step") * batch_size)))
    return trained
