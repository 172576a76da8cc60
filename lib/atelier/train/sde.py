"""Batch-size transfer by the Adam SDE rule, and the AdamW weight-decay timescale.

Malladi et al. (2022, "On the SDEs and scaling rules for adaptive gradient algorithms")
show that Adam at batch size kB follows the same stochastic differential equation as at
batch size B when

    lr -> lr * sqrt(k),  (1 - beta1) -> (1 - beta1) * k,  (1 - beta2) -> (1 - beta2) * k,
    eps -> eps / sqrt(k),  steps -> steps / k  (same tokens),

and, for decoupled weight decay (AdamW decays by lr * wd per step), wd -> wd * sqrt(k) so
that the per-step decay lr * wd scales with k like the other per-step quantities.
``sde_rescale`` is the one implementation every study uses when it changes the batch size.

AdamW's weight decay acts as an exponential moving average over updates with a timescale
of 1 / (lr * wd) steps; measured in epochs this is tau = B / (lr * wd * D) for batch size B
and dataset size D in the same unit (sequences or tokens). Holding tau fixed while changing
B or D transfers weight decay (Wang & Aitchison 2024).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TypeVar

H = TypeVar("H")

# The hyperparameter names sde_rescale understands; any other field passes through unchanged.
SDE_FIELDS = ("lr", "betas", "beta1", "beta2", "eps", "weight_decay", "steps", "warmup_steps", "batch_size")


def _scaled_beta(beta: float, k: float, name: str) -> float:
    """beta with (1 - beta) multiplied by k; it must stay in [0, 1)."""
    scaled = 1.0 - (1.0 - beta) * k
    if not 0.0 <= scaled < 1.0:
        raise ValueError(f"{name}={beta} cannot be rescaled by k={k}: 1 - (1 - {name}) * k = {scaled} "
                         f"is outside [0, 1); use a smaller k or a larger {name}")
    return scaled


def _scaled_count(value: int, factor: float, name: str, minimum: int) -> int:
    scaled = round(value * factor)
    if scaled < minimum:
        raise ValueError(f"{name}={value} scaled by {factor:g} rounds to {scaled} (< {minimum})")
    return scaled


def sde_rescale(hparams: H, k: float) -> H:
    """``hparams`` moved from batch size B to k * B by the Adam SDE rule.

    ``hparams`` is a dataclass (e.g. TrainConfig or a study Config) or a mapping; the fields
    named in SDE_FIELDS that it has are rescaled (``betas`` as a pair, or ``beta1``/``beta2``),
    every other field is returned unchanged (a dataclass of the same type, or a dict). Step counts are
    rounded to the nearest integer; ``batch_size * k`` must be a whole number.
    """
    if not (isinstance(k, (int, float)) and k > 0 and math.isfinite(k)):
        raise ValueError(f"batch-size factor k={k!r} must be a positive finite number")
    if dataclasses.is_dataclass(hparams) and not isinstance(hparams, type):
        values = {f.name: getattr(hparams, f.name) for f in dataclasses.fields(hparams)}
    elif isinstance(hparams, Mapping):
        values = dict(hparams)
    else:
        raise TypeError(f"sde_rescale needs a dataclass instance or a mapping, got {type(hparams).__name__}")

    rules = {
        "lr": lambda v: v * math.sqrt(k),
        "betas": lambda v: tuple(_scaled_beta(b, k, f"beta{i + 1}") for i, b in enumerate(v)),
        "beta1": lambda v: _scaled_beta(v, k, "beta1"),
        "beta2": lambda v: _scaled_beta(v, k, "beta2"),
        "eps": lambda v: v / math.sqrt(k),
        "weight_decay": lambda v: v * math.sqrt(k),
        "steps": lambda v: _scaled_count(v, 1 / k, "steps", 1),
        "warmup_steps": lambda v: _scaled_count(v, 1 / k, "warmup_steps", 0),
        "batch_size": lambda v: _scaled_batch(v, k),
    }
    changed = {name: rules[name](values[name]) for name in SDE_FIELDS if name in values}
    if isinstance(hparams, Mapping):
        return {**values, **changed}
    return dataclasses.replace(hparams, **changed)


def _scaled_batch(batch_size: int, k: float) -> int:
    scaled = batch_size * k
    if abs(scaled - round(scaled)) > 1e-9 or round(scaled) < 1:
        raise ValueError(f"batch_size={batch_size} times k={k} = {scaled} is not a positive whole number")
    return round(scaled)


def adamw_timescale(batch: float, lr: float, wd: float, dataset_tokens: float) -> float:
    """AdamW's EMA timescale in epochs, tau = B / (lr * wd * D); B and D in the same unit."""
    for name, value in (("batch", batch), ("lr", lr), ("wd", wd), ("dataset_tokens", dataset_tokens)):
        if not value > 0:
            raise ValueError(f"adamw_timescale needs {name} > 0, got {value!r}")
    return batch / (lr * wd * dataset_tokens)


def weight_decay_for_timescale(tau: float, batch: float, lr: float, dataset_tokens: float) -> float:
    """The weight decay that gives AdamW timescale ``tau`` (epochs): wd = B / (lr * tau * D)."""
    for name, value in (("tau", tau), ("batch", batch), ("lr", lr), ("dataset_tokens", dataset_tokens)):
        if not value > 0:
            raise ValueError(f"weight_decay_for_timescale needs {name} > 0, got {value!r}")
    return batch / (lr * tau * dataset_tokens)

