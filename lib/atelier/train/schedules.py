"""Learning-rate schedules: linear warmup, then constant, linear, cosine or WSD decay.

``lr_factor(step, ...)`` is a pure function of the optimizer step (0-based) that returns the
multiplier applied to every parameter group's peak learning rate; ``Schedule`` binds its
settings so that it can be handed to ``torch.optim.lr_scheduler.LambdaLR``.

- warmup: factor (step + 1) / warmup_steps for step < warmup_steps (reaches 1 at the end).
- after warmup, with progress p = (step - warmup_steps) / (total_steps - warmup_steps) in [0, 1]
  and floor m = min_factor:
  constant: 1;  linear: 1 - (1 - m) p;  cosine: m + (1 - m) (1 + cos(pi p)) / 2;
  wsd (warmup-stable-decay): 1 until the last ``decay_fraction`` of total_steps, then linear
  from 1 to m over that stretch.
"""

from __future__ import annotations

import dataclasses
import math

SCHEDULES = ("constant", "linear", "cosine", "wsd")


def lr_factor(step: int, kind: str, warmup_steps: int, total_steps: int,
              min_factor: float = 0.0, decay_fraction: float = 0.2) -> float:
    """The LR multiplier at optimizer step ``step`` (0-based) of a ``total_steps`` run."""
    if kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r}; valid schedules: {', '.join(SCHEDULES)}")
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if kind == "constant":
        return 1.0
    if kind == "wsd":
        decay_start = total_steps - decay_fraction * total_steps
        if step < decay_start:
            return 1.0
        p = min(1.0, (step - decay_start) / max(total_steps - decay_start, 1))
        return 1.0 - (1.0 - min_factor) * p
    p = min(1.0, (step - warmup_steps) / max(total_steps - warmup_steps, 1))
    if kind == "linear":
        return 1.0 - (1.0 - min_factor) * p
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * p))


@dataclasses.dataclass(frozen=True)
class Schedule:
    """``lr_factor`` with its settings bound: a picklable callable step -> factor."""

    kind: str
    warmup_steps: int
    total_steps: int
    min_factor: float = 0.0
    decay_fraction: float = 0.2

    def __post_init__(self):
        if self.kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.kind!r}; valid schedules: {', '.join(SCHEDULES)}")
        if not 0 <= self.warmup_steps <= self.total_steps:
            raise ValueError(f"warmup_steps={self.warmup_steps} must be in [0, total_steps={self.total_steps}]")
        if not 0.0 <= self.min_factor <= 1.0:
            raise ValueError(f"min_factor={self.min_factor} must be in [0, 1]")
        if not 0.0 < self.decay_fraction <= 1.0:
            raise ValueError(f"decay_fraction={self.decay_fraction} must be in (0, 1]")

    def __call__(self, step: int) -> float:
        return lr_factor(step, self.kind, self.warmup_steps, self.total_steps,
                         self.min_factor, self.decay_fraction)
