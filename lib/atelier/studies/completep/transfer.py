"""Batch-size and duration transfer on the base model, from its best base LR.

Batch size: at k times the base batch the Adam SDE rule (atelier.train.sde_rescale) predicts the
LR (x sqrt(k)), betas, eps, weight decay and steps (/ k, same tokens). Around that prediction
the LR is swept by ``batch_log2_lr_offsets``; if the rule transfers, the best offset is ~0 at
every batch size.

Duration: at f times the base number of steps (same batch, so f times the tokens) the weight
decay follows the AdamW timescale tau = B / (lr * wd * D) (atelier.train.weight_decay_for_timescale),
in epochs of the run's own data. If the timescale is what transfers, the best tau is the same at
every duration while the best weight decay moves like 1 / D.
"""

from __future__ import annotations

import itertools
import math

import polars as pl

from atelier.data.datamodule import TextDataModule
from atelier.studies.completep.config import Config
from atelier.studies.completep.data import with_batch_size
from atelier.studies.completep.models import build_model
from atelier.studies.completep.training import train_config, train_run
from atelier.train import weight_decay_for_timescale


def _curve(metrics: pl.DataFrame, tokens_per_step: int) -> pl.DataFrame:
    """Training loss against tokens seen."""
    return (metrics.filter(pl.col("loss").is_not_null())
            .select(pl.col("step"), (pl.col("step") * tokens_per_step).alias("tokens"), pl.col("loss")))


def batch_transfer(cfg: Config, datamodule: TextDataModule, base_log2_lr: float, seed: int
                   ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(final losses: batch_size, offset, log2_lr, loss; curves at offset 0: batch_size, tokens, loss)."""
    vocab, rows, curves = datamodule.tokenizer.vocab_size, [], []
    for k, offset in itertools.product(cfg.batch_factors, cfg.batch_log2_lr_offsets):
        batch = round(cfg.batch_size * k)
        config = train_config(cfg, base_log2_lr + offset, seed, batch_factor=k)
        model = build_model(cfg, vocab, "completep", cfg.base_width, cfg.base_depth, seed)
        result = train_run(model, config, with_batch_size(datamodule, batch),
                           name=f"batch-b{batch}-off{offset:+.2f}")
        rows.append({"batch_size": batch, "offset": offset, "log2_lr": math.log2(config.lr), "steps": config.steps,
                     "loss": result.loss})
        if offset == 0.0:
            curves.append(_curve(result.metrics, batch * cfg.seq_len).with_columns(pl.lit(batch).alias("batch_size")))
    return pl.DataFrame(rows), pl.concat(curves)


def duration_transfer(cfg: Config, datamodule: TextDataModule, base_log2_lr: float, seed: int
                      ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(final losses: duration, steps, tokens, tau, log2_tau, weight_decay, loss; curves at the middle tau)."""
    vocab, rows, curves = datamodule.tokenizer.vocab_size, [], []
    tokens_per_step = cfg.batch_size * cfg.seq_len
    middle = cfg.timescales[len(cfg.timescales) // 2]
    for f, tau in itertools.product(cfg.duration_factors, cfg.timescales):
        steps = round(cfg.steps * f)
        wd = weight_decay_for_timescale(tau, tokens_per_step, 2.0 ** base_log2_lr, steps * tokens_per_step)
        model = build_model(cfg, vocab, "completep", cfg.base_width, cfg.base_depth, seed)
        result = train_run(model, train_config(cfg, base_log2_lr, seed, steps=steps, weight_decay=wd), datamodule,
                           name=f"duration-s{steps}-tau{tau:g}")
        rows.append({"duration": f, "steps": steps, "tokens": steps * tokens_per_step, "tau": tau,
                     "log2_tau": math.log2(tau), "weight_decay": wd, "loss": result.loss})
        if tau == middle:
            curves.append(_curve(result.metrics, tokens_per_step).with_columns(pl.lit(steps).alias("steps_total")))
    return pl.DataFrame(rows), pl.concat(curves)
