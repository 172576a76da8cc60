"""Training runs of the study, all through atelier.train.fit.

- the soup: batches whose mixture h is drawn from the meta-distribution at every step,
  objective SoupLoss(NextTokenLoss) (one instantiation per step, gradients into S, E, router);
- the generalist: the same transformer trained on the uniform mixture, same steps and tokens;
- specialists from scratch and the finetuned generalist: training on one fixed h, with the loss
  on that mixture recorded along the run (loss vs compute).
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import polars as pl
import torch
from torch.utils.data import DataLoader

from atelier.nn import Transformer, TransformerConfig
from atelier.studies.soup_of_experts.config import Config
from atelier.studies.soup_of_experts.domains import MixtureBatches
from atelier.studies.soup_of_experts.evaluation import MixtureLossCurve
from atelier.studies.soup_of_experts.meta import Fixed, SparseDirichlet
from atelier.studies.soup_of_experts.soup import SoupLoss, SoupOfExperts
from atelier.train import NextTokenLoss, TrainConfig, fit


def model_config(cfg: Config, vocab_size: int) -> TransformerConfig:
    return TransformerConfig(vocab_size=vocab_size, width=cfg.width, depth=cfg.depth, n_heads=cfg.n_heads,
                             max_len=cfg.seq_len)


def meta_distribution(cfg: Config) -> SparseDirichlet:
    return SparseDirichlet(len(cfg.domains), cfg.support, cfg.concentration)


def train_config(cfg: Config, seed: int, steps: int | None = None, lr: float | None = None) -> TrainConfig:
    steps = steps or cfg.steps
    return TrainConfig(steps=steps, lr=lr or cfg.lr, warmup_steps=min(cfg.warmup_steps, steps // 10),
                       schedule="cosine", min_lr_factor=0.1, log_every=cfg.log_every, seed=seed)


def _loader(blocks, meta, cfg: Config, seed: int) -> DataLoader:
    return DataLoader(MixtureBatches(blocks, meta, cfg.batch_size, seed), batch_size=None)


@dataclasses.dataclass
class Trained:
    """A trained model with its training metrics (fit's) and, for fixed-h runs, its loss curve on h."""

    model: torch.nn.Module
    metrics: pl.DataFrame
    curve: pl.DataFrame | None = None
    curve_seconds: float = 0.0  # time spent recording the curve, inside the run's wall time


def train_soup(cfg: Config, train_blocks: dict, n_experts: int, vocab_size: int, seed: int) -> Trained:
    """A soup of n_experts trained for cfg.steps steps, each on a batch from a fresh h ~ meta."""
    torch.manual_seed(seed)
    soup = SoupOfExperts(model_config(cfg, vocab_size), len(cfg.domains), n_experts, cfg.router_hidden,
                         cfg.expert_init_std, cfg.router_init_scale)
    result = fit(train_config(cfg, seed), soup, SoupLoss(NextTokenLoss()),
                 _loader(train_blocks, meta_distribution(cfg), cfg, seed), name=f"soup-{n_experts}")
    return Trained(result.model, result.metrics)


def train_on_h(cfg: Config, train_blocks: dict, h: np.ndarray, seed: int, name: str, *,
               model: Transformer | None = None, vocab_size: int | None = None, steps: int | None = None,
               lr: float | None = None, val_blocks: dict | None = None) -> Trained:
    """Train ``model`` (a copy; a fresh one when None) on batches from the fixed mixture h.

    With val_blocks, the loss on mixture h is recorded every cfg.curve_every steps.
    """
    torch.manual_seed(seed)
    model = copy.deepcopy(model) if model is not None else Transformer(model_config(cfg, vocab_size))
    curve = MixtureLossCurve(h, val_blocks, cfg.curve_every) if val_blocks is not None else None
    result = fit(train_config(cfg, seed, steps, lr), model, NextTokenLoss(), _loader(train_blocks, Fixed(h), cfg, seed),
                 name=name, callbacks=[curve] if curve else [])
    if curve is None:
        return Trained(result.model, result.metrics)
    return Trained(result.model, result.metrics, curve.frame, curve.seconds)
