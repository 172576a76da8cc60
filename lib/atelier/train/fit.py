"""fit: train a model in-process on one device, quietly, and return it with its curves.

This is what a notebook calls. It wraps the model and objective in a LanguageModel, builds
a Lightning Trainer set up for small fast runs (no progress bar, no model summary, no
sanity validation, no checkpoints unless asked, logging every ``log_every`` steps), trains
for ``config.steps`` optimizer steps, validates at the end, and writes the metrics to
``<run>/metrics/<name>.parquet`` (the current report run unless ``run_dir`` is given).
On GPU it trains in bf16-mixed precision; on CPU in float32, and two runs with the same
seed and the same initial model give identical metrics (timings aside).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import warnings
from pathlib import Path
from typing import Iterable

import lightning as L
import polars as pl
import torch
from lightning.pytorch.callbacks import WeightAveraging
from lightning.pytorch.utilities.model_helpers import is_overridden
from torch.optim.swa_utils import get_ema_multi_avg_fn

from atelier.train.config import TrainConfig
from atelier.train.logger import ParquetLogger
from atelier.train.module import LanguageModel
from atelier.train.objectives import Objective
from atelier.train.throughput import ThroughputMFU

# Lightning messages that say nothing useful in a notebook on one device.
_QUIET_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")
_QUIET_WARNINGS = (".*does not have many workers.*", ".*smaller than the logging interval.*",
                   ".*LeafSpec.*is deprecated.*", ".*Checkpoint directory.*exists.*",
                   ".*no `val_dataloader`.*")


@dataclasses.dataclass
class FitResult:
    """The trained backbone, its metrics (one row per logged step) and where things were written."""

    model: torch.nn.Module
    metrics: pl.DataFrame
    metrics_path: Path
    checkpoint: Path | None = None


@contextlib.contextmanager
def quiet():
    """Silence Lightning's start-up banners and single-device tips (errors still show)."""
    levels = {name: logging.getLogger(name).level for name in _QUIET_LOGGERS}
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    with warnings.catch_warnings():
        for pattern in _QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern)
        try:
            yield
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)


def resolve_precision(config: TrainConfig) -> str:
    """``auto`` means bf16-mixed when training on a CUDA GPU and 32-true otherwise."""
    if config.precision != "auto":
        return config.precision
    on_gpu = torch.cuda.is_available() and config.accelerator in ("auto", "gpu", "cuda")
    return "bf16-mixed" if on_gpu else "32-true"


class EMA(WeightAveraging):
    """Exponential moving average of the weights, updated after every optimizer step."""

    def __init__(self, decay: float):
        super().__init__(multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def make_trainer(config: TrainConfig, run_dir: Path, name: str, *, devices: int = 1, num_nodes: int = 1,
                 strategy: str = "auto", peak_flops: float | None = None,
                 callbacks: Iterable[L.Callback] = ()) -> L.Trainer:
    """The Trainer fit() and launch() share: logger, throughput, EMA, and little else."""
    extra = [ThroughputMFU(peak_flops)] + ([EMA(config.ema_decay)] if config.ema_decay else [])
    precision = resolve_precision(config)
    if precision != "32-true" and torch.cuda.is_available():
        torch.set_float32_matmul_precision("high")
    return L.Trainer(
        accelerator=config.accelerator,
        devices=devices,
        num_nodes=num_nodes,
        strategy=strategy,
        precision=precision,
        max_steps=config.steps,
        max_epochs=-1,
        logger=ParquetLogger(Path(run_dir) / "metrics", name),
        callbacks=[*extra, *callbacks],
        log_every_n_steps=config.log_every,
        val_check_interval=config.val_every or config.steps,
        check_val_every_n_epoch=None,
        limit_val_batches=config.val_batches if config.val_batches is not None else 1.0,
        num_sanity_val_steps=0,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        default_root_dir=run_dir,
    )


def run_training(trainer: L.Trainer, module: LanguageModel, train=None, val=None, datamodule=None,
                 checkpoint: Path | None = None) -> None:
    """Run ``trainer.fit``, validate at the end if the last step was not a validation step, save."""
    config = module.config
    trainer.fit(module, train_dataloaders=train, val_dataloaders=val, datamodule=datamodule)
    has_val = val is not None or (datamodule is not None and is_overridden("val_dataloader", datamodule))
    if has_val and config.steps % (config.val_every or config.steps) != 0:
        trainer.validate(module, dataloaders=val, datamodule=datamodule, verbose=False)
    if checkpoint is not None:
        trainer.save_checkpoint(checkpoint)


def fit(config: TrainConfig, model: torch.nn.Module, objective: Objective, train=None, val=None,
        datamodule: L.LightningDataModule | None = None, run_dir: str | Path | None = None,
        name: str = "train", peak_flops: float | None = None,
        callbacks: Iterable[L.Callback] = ()) -> FitResult:
    """Train ``model`` on ``objective`` for ``config.steps`` steps on one device.

    Data comes from ``train`` (and ``val``) dataloaders yielding dict batches with a
    ``tokens`` entry, or from a LightningDataModule. Metrics go to
    ``<run_dir or current run>/metrics/<name>.parquet``. With ``config.ema_decay`` the
    returned model holds the EMA weights.
    """
    return fit_on_devices(config, model, objective, train, val, datamodule, run_dir, name, peak_flops, callbacks)


def fit_on_devices(config: TrainConfig, model: torch.nn.Module, objective: Objective, train=None, val=None,
                   datamodule: L.LightningDataModule | None = None, run_dir: str | Path | None = None,
                   name: str = "train", peak_flops: float | None = None, callbacks: Iterable[L.Callback] = (),
                   devices: int = 1, num_nodes: int = 1, strategy: str = "auto") -> FitResult:
    """fit() on ``devices`` x ``num_nodes`` processes; the launch entry point calls it in each one."""
    if (train is None) == (datamodule is None):
        raise ValueError("fit needs exactly one of train (a dataloader) or datamodule")
    if run_dir is None:
        from atelier.report import current_run
        run_dir = current_run().path
    run_dir = Path(run_dir)
    checkpoint = run_dir / "checkpoints" / f"{name}.ckpt" if config.checkpoint else None
    with quiet():
        L.seed_everything(config.seed, workers=True, verbose=False)
        trainer = make_trainer(config, run_dir, name, devices=devices, num_nodes=num_nodes, strategy=strategy,
                               peak_flops=peak_flops, callbacks=callbacks)
        module = LanguageModel(model, objective, config)
        run_training(trainer, module, train, val, datamodule, checkpoint)
    logger = trainer.logger
    return FitResult(model=module.model, metrics=logger.frame, metrics_path=logger.path, checkpoint=checkpoint)


@torch.no_grad()
def evaluate(model: torch.nn.Module, objective: Objective, batches: Iterable[dict],
             max_batches: int | None = None) -> dict[str, float]:
    """Mean loss and metrics of ``objective`` over ``batches`` (eval mode, no gradients).

    Batches are weighted by their number of sequences; tensors are moved to the model's device.
    """
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    totals: dict[str, float] = {}
    count = 0
    for i, batch in enumerate(batches):
        if max_batches is not None and i >= max_batches:
            break
        batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        loss, metrics = objective(model, batch)
        size = batch["tokens"].shape[0]
        for key, value in {"loss": loss, **metrics}.items():
            totals[key] = totals.get(key, 0.0) + float(value) * size
        count += size
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate got no batches")
    return {key: total / count for key, total in totals.items()}
