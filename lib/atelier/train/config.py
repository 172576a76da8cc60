"""TrainConfig: the optimizer, schedule and loop settings of one training run.

A study's Config holds the knobs it sweeps and builds a TrainConfig from them; the model
and the data are not part of it. Change the batch size with ``sde_rescale(train_config, k)``
(it rescales lr, betas, eps, weight_decay, steps and warmup_steps together).
"""

from __future__ import annotations

import dataclasses

from atelier.train.schedules import Schedule

PRECISIONS = ("auto", "32-true", "bf16-mixed", "16-mixed", "bf16-true")
ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Settings of one run; defaults suit a tiny model on CPU."""

    steps: int = 100  # optimizer steps
    lr: float = 1e-3  # peak learning rate (a parameterisation may scale it per group)
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    weight_decay: float = 0.0  # decoupled (AdamW): each step multiplies weights by 1 - lr * wd
    warmup_steps: int = 0
    schedule: str = "cosine"  # constant | linear | cosine | wsd
    min_lr_factor: float = 0.0  # final LR as a fraction of the peak (linear, cosine, wsd)
    decay_fraction: float = 0.2  # wsd: the last fraction of steps that decays
    grad_clip: float | None = 1.0  # max global gradient norm; None = no clipping
    ema_decay: float | None = None  # keep an EMA of the weights (used for val and returned)
    seed: int = 0  # seeds data order and any randomness in the objective
    log_every: int = 10  # log training metrics every this many steps
    val_every: int | None = None  # validate every this many steps; always once at the end
    val_batches: int | None = None  # batches per validation; None = the whole loader
    accelerator: str = "auto"  # auto | cpu | gpu | cuda | mps
    precision: str = "auto"  # auto = bf16-mixed on GPU, 32-true on CPU
    checkpoint: bool = False  # save <run>/checkpoints/<name>.ckpt at the end
    compile: bool = False  # torch.compile the training objective and model: pays on long runs (see bench/)

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError(f"steps={self.steps} must be >= 1")
        if self.lr <= 0:
            raise ValueError(f"lr={self.lr} must be > 0")
        if len(self.betas) != 2 or not all(0.0 <= b < 1.0 for b in self.betas):
            raise ValueError(f"betas={self.betas} must be two numbers in [0, 1)")
        if self.log_every < 1:
            raise ValueError(f"log_every={self.log_every} must be >= 1")
        if self.val_every is not None and self.val_every < 1:
            raise ValueError(f"val_every={self.val_every} must be >= 1 or None")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ValueError(f"ema_decay={self.ema_decay} must be in (0, 1) or None")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision={self.precision!r}; valid: {', '.join(PRECISIONS)}")
        if self.accelerator not in ACCELERATORS:
            raise ValueError(f"accelerator={self.accelerator!r}; valid: {', '.join(ACCELERATORS)}")
        object.__setattr__(self, "betas", tuple(self.betas))
        self.lr_schedule()  # validates schedule, warmup and decay settings

    def lr_schedule(self) -> Schedule:
        return Schedule(self.schedule, self.warmup_steps, self.steps, self.min_lr_factor, self.decay_fraction)
