"""Losses of a model on mixtures h, computed exactly from per-domain validation losses.

The loss on mixture h is the expected next-token loss on a token drawn from h, that is
sum_d h_d L_d with L_d the mean loss on domain d's validation blocks. Computing it from the
per-domain losses (rather than from a sampled validation batch) makes every comparison on
the same h free of sampling noise, and a model that does not depend on h (the generalist)
is evaluated once for any number of h.
"""

from __future__ import annotations

import time

import lightning as L
import numpy as np
import polars as pl
import torch

from atelier.train import NextTokenLoss, evaluate


def domain_losses(model: torch.nn.Module, val_blocks: dict[str, torch.Tensor], batch_size: int = 32) -> np.ndarray:
    """Mean next-token loss (nats/token) of ``model`` on each domain's blocks, [n_domains]."""
    objective = NextTokenLoss()
    losses = []
    for blocks in val_blocks.values():
        batches = ({"tokens": chunk} for chunk in blocks.split(batch_size))
        losses.append(evaluate(model, objective, batches)["loss"])
    return np.array(losses)


def soup_losses(soup, hs: np.ndarray, val_blocks: dict[str, torch.Tensor],
                evaluate_on: np.ndarray | None = None) -> np.ndarray:
    """Loss of the soup instantiated at each row of hs [n, n_domains] on that mixture (or on
    mixture evaluate_on[i] when given, e.g. a target whose h was estimated), [n]."""
    device = soup.experts.device
    out = []
    for h, h_data in zip(hs, hs if evaluate_on is None else evaluate_on):
        specialist = soup.specialist(torch.as_tensor(h, dtype=torch.float32, device=device))
        out.append(float(h_data @ domain_losses(specialist, val_blocks)))
    return np.array(out)


class MixtureLossCurve(L.Callback):
    """Records the loss on mixture h of the model being trained, before the first step and
    every ``every`` optimizer steps (and after the last): ``frame`` has step, loss; ``seconds``
    is the time spent evaluating (to leave out of the run's training time)."""

    def __init__(self, h: np.ndarray, val_blocks: dict[str, torch.Tensor], every: int):
        self.h, self.val_blocks, self.every = np.asarray(h), val_blocks, every
        self.rows: list[dict] = []
        self.seconds = 0.0

    def _record(self, trainer, pl_module) -> None:
        step, start = trainer.global_step, time.perf_counter()
        if not self.rows or self.rows[-1]["step"] != step:
            self.rows.append({"step": step, "loss": float(self.h @ domain_losses(pl_module.model, self.val_blocks))})
        self.seconds += time.perf_counter() - start

    def on_train_start(self, trainer, pl_module) -> None:
        self._record(trainer, pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step % self.every == 0 or trainer.global_step >= trainer.max_steps:
            self._record(trainer, pl_module)

    @property
    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema={"step": pl.Int64, "loss": pl.Float64})
