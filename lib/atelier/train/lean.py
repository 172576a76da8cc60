"""A lean training loop for sweeps of many short runs: atelier.train.fit without Lightning.

fit() spends about half a CPU-second per run setting up a Lightning Trainer, as much as a whole
120-step run of a small model. This loop does the same optimisation with the core pieces, so a
run gives the same losses as fit() (tests/train/test_train_lean.py checks it on a tiny case):
AdamW on the parameterisation's groups (atelier.train.module.param_groups), the TrainConfig's LR
schedule stepped after every update, global gradient-norm clipping at ``grad_clip``, the training
batches of ``datamodule.train_dataloader()`` in its seeded order (a new pass when it runs out), and
the validation loss of atelier.train.fit.evaluate on the whole validation set at every
``val_every`` steps and at the end. Like fit(), it trains on the GPU when there is one (bf16 autocast
under the "auto" precision) and on the CPU in float32 otherwise.
"""

from __future__ import annotations

import contextlib

import polars as pl
import torch
from torch.optim.lr_scheduler import LambdaLR

from atelier.train import TrainConfig
from atelier.train.fit import evaluate, resolve_precision
from atelier.train.module import param_groups
from atelier.train.objectives import Objective


def train_lean(config: TrainConfig, model: torch.nn.Module, objective: Objective, datamodule) -> pl.DataFrame:
    """Train ``model`` in place for ``config.steps`` updates; metrics as fit() logs them: one row per
    logged training step (step, loss, lr, grad_norm) and one per validation (step = updates done, val_loss)."""
    if config.ema_decay is not None or config.compile:
        raise ValueError("train_lean does not support ema_decay or compile; use atelier.train.fit")
    torch.manual_seed(config.seed)
    on_gpu = torch.cuda.is_available() and config.accelerator in ("auto", "gpu", "cuda")
    device = torch.device("cuda" if on_gpu else "cpu")
    precision = resolve_precision(config)
    if precision not in ("32-true", "bf16-mixed"):
        raise ValueError(f"precision={precision!r}: train_lean runs 32-true or bf16-mixed; use atelier.train.fit")
    autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16-mixed"
                else contextlib.nullcontext())
    model.to(device)
    optimizer = torch.optim.AdamW(param_groups(model, config), lr=config.lr, betas=config.betas, eps=config.eps,
                                  weight_decay=config.weight_decay)
    schedule = config.lr_schedule()
    scheduler = LambdaLR(optimizer, schedule)
    max_norm = config.grad_clip if config.grad_clip is not None else float("inf")
    val_every = config.val_every or config.steps
    loader = datamodule.train_dataloader()
    if len(loader) < config.steps:
        raise ValueError(f"steps={config.steps} but the training data holds {len(loader)} batches: "
                         "give the datamodule more train_tokens")
    model.train()
    rows = []
    for step, batch in zip(range(1, config.steps + 1), loader):  # step = updates done after this batch
        batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        with autocast:
            loss, _ = objective(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        scheduler.step()
        if step % config.log_every == 0:
            rows.append({"step": step - 1, "loss": loss.item(), "lr": config.lr * schedule(step - 1),
                         "grad_norm": float(norm)})
        if step % val_every == 0 or step == config.steps:
            rows.append({"step": step, "val_loss": evaluate(model, objective, datamodule.val_dataloader())["loss"]})
    return pl.DataFrame(rows, schema={"step": pl.Int64, "loss": pl.Float64, "lr": pl.Float64,
                                      "grad_norm": pl.Float64, "val_loss": pl.Float64})
