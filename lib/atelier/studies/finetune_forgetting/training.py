"""Pretraining the model sizes, and finetuning one of them with losses tracked along the way.

Every size pretrains on a prefix of one stream, as long as its budget (models.pretrain_steps: one
pass, warmup then cosine decay). A finetuning run
starts from a copy of the pretrained weights and trains at a constant learning rate after a
short warmup, so the weights at step s are those of a run stopped at s: evaluating the
pretraining and target validation losses at a few steps of one run traces forgetting and
overfitting against the number of finetuning steps without a run per step count.
"""

from __future__ import annotations

import copy
import dataclasses

import lightning as L
import numpy as np
import polars as pl
import torch

from atelier.nn import Transformer
from atelier.studies.finetune_forgetting.config import Config
from atelier.studies.finetune_forgetting.data import Corpora, finetune_stream, loader
from atelier.studies.finetune_forgetting.models import build_model, pretrain_steps
from atelier.train import NextTokenLoss, TrainConfig, evaluate, fit


@dataclasses.dataclass
class Pretrained:
    width: int
    params: int  # non-embedding parameters N
    model: Transformer  # kept in memory; finetuning copies it
    metrics: pl.DataFrame  # step, loss, val_loss, ... of the pretraining run


def pretrain(cfg: Config, corpora: Corpora, width: int, seed: int = 0) -> Pretrained:
    """Train the model of this width on the first ``pretrain_steps(cfg, width)`` batches of the
    pretraining stream (each block once)."""
    torch.manual_seed(seed)
    model = build_model(cfg, width, corpora.tokenizer.vocab_size)
    steps = pretrain_steps(cfg, width)
    if steps * cfg.pretrain_batch > corpora.pretrain.shape[0]:
        raise ValueError(f"width {width} pretrains for {steps} steps of {cfg.pretrain_batch} blocks, but the stream "
                         f"holds {corpora.pretrain.shape[0]} blocks (build the corpora with this config)")
    config = TrainConfig(steps=steps, lr=cfg.pretrain_lr, warmup_steps=round(cfg.pretrain_warmup_fraction * steps),
                         schedule="cosine", min_lr_factor=0.1, log_every=max(1, steps // 30),
                         val_every=max(1, steps // 6), seed=seed)
    stream = corpora.pretrain[:steps * cfg.pretrain_batch]
    result = fit(config, model, NextTokenLoss(), loader(stream, cfg.pretrain_batch, shuffle=True, seed=seed),
                 loader(corpora.pretrain_val, cfg.pretrain_batch), name=f"pretrain-w{width}-s{seed}")
    return Pretrained(width, model.num_params(), result.model, result.metrics)


def eval_steps(total: int, points: int, even: int | None = None) -> list[int]:
    """Steps in 1..total ending at total: ``points`` spaced geometrically (the fast changes of the
    first steps, where the early-stopped checkpoint of a small target set lies: forgetting grows
    fast there, so a coarse grid would misplace it) and ``even`` (default ``points``) spaced evenly
    (the slow drift of the long tail, and a late early-stopped checkpoint on a large set)."""
    even = points if even is None else even
    steps = np.concatenate([np.geomspace(1, total, points), np.linspace(total / even, total, even)])
    return sorted({int(round(s)) for s in steps} | {total})


class Trajectory(L.Callback):
    """Evaluates the backbone on named validation sets after the listed optimizer steps.

    With ``patience``, training stops once ``patience`` evaluations in a row have not lowered
    the ``monitor`` loss (early stopping: the run is then a prefix of the full-length run, since
    the learning rate does not depend on the run's length after warmup).
    """

    def __init__(self, steps: list[int], val_sets: dict[str, torch.Tensor], batch_size: int,
                 patience: int | None = None, monitor: str = "target_loss"):
        if patience is not None and patience < 1:
            raise ValueError(f"patience={patience} must be a positive number of evaluations or None")
        self.steps, self.val_sets, self.batch_size = set(steps), val_sets, batch_size
        self.patience, self.monitor = patience, monitor
        self.rows: list[dict] = []

    def record(self, model: torch.nn.Module, step: int) -> None:
        row = {"step": step}
        for name, blocks in self.val_sets.items():
            row[name] = evaluate(model, NextTokenLoss(), loader(blocks, self.batch_size))["loss"]
        self.rows.append(row)

    def stalled(self) -> bool:
        """Whether the last ``patience`` evaluations all lie after the lowest ``monitor`` loss."""
        losses = [row[self.monitor] for row in self.rows]
        return self.patience is not None and len(losses) - 1 - int(np.argmin(losses)) >= self.patience

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step in self.steps:
            self.record(pl_module.model, trainer.global_step)
            trainer.should_stop = trainer.should_stop or self.stalled()


def finetune(cfg: Config, base: Pretrained, corpora: Corpora, domain: str, tokens: int, p: float,
             seed: int = 0, early_stop: bool = False) -> pl.DataFrame:
    """Finetune a copy of ``base`` on ``tokens`` unique tokens of ``domain`` with a fraction p of
    pretraining data injected; one row per evaluated step (step 0 = before finetuning) with the
    pretraining and target validation losses (nats per token) and the epochs of target data seen.

    With ``early_stop`` the run only locates its early stop: the target loss is that of the larger
    validation set ``corpora.law_val`` and training stops ``cfg.patience`` evaluations after its
    lowest value (the rows are then those of the full run's first steps on that set)."""
    n = cfg.finetune_steps * cfg.finetune_batch
    stream, injected = finetune_stream(corpora.target_set(domain, tokens), corpora.pretrain, p, n, seed)
    model = copy.deepcopy(base.model)
    target_val = (corpora.law_val if early_stop else corpora.target_val)[domain]
    curve = Trajectory(eval_steps(cfg.finetune_steps, cfg.eval_points, cfg.eval_even),
                       {"pretrain_loss": corpora.pretrain_val, "target_loss": target_val}, cfg.finetune_batch,
                       cfg.patience if early_stop else None)
    curve.record(model, 0)
    config = TrainConfig(steps=cfg.finetune_steps, lr=cfg.finetune_lr, warmup_steps=cfg.finetune_warmup,
                         schedule="constant", log_every=cfg.finetune_steps, seed=seed)
    fit(config, model, NextTokenLoss(), loader(stream, cfg.finetune_batch),
        name=f"finetune-w{base.width}-{domain}-{tokens}-p{p:g}-s{seed}{'-early-stop' if early_stop else ''}",
        callbacks=[curve])
    target_seen = np.cumsum(~injected)  # target sequences seen after each slot
    blocks = tokens // cfg.seq_len
    return pl.DataFrame(curve.rows).with_columns(
        width=pl.lit(base.width), params=pl.lit(base.params), domain=pl.lit(domain), target_tokens=pl.lit(tokens),
        p=pl.lit(p), injected=pl.lit(int(injected.sum())),
        epochs=pl.col("step").map_elements(lambda s: float(target_seen[s * cfg.finetune_batch - 1]) / blocks
                                           if s else 0.0, return_dtype=pl.Float64),
    )
