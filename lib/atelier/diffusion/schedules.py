"""Masking schedules of absorbing-state (masked) diffusion.

alpha(t) is the probability that a token is still clean at time t in [0, 1] (alpha(0) = 1,
alpha(1) = 0); each token is masked independently with probability 1 - alpha(t). The NELBO
weights the cross-entropy of a masked token by w(t) = -alpha'(t) / (1 - alpha(t))
(Sahoo et al. 2024, MDLM, eq. 10).
"""

from __future__ import annotations

import dataclasses
import math

import torch


class Schedule:
    """alpha(t), its derivative and the NELBO weight, elementwise on a tensor of times."""

    def alpha(self, t: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def dalpha(self, t: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def weight(self, t: torch.Tensor) -> torch.Tensor:
        """w(t) = -alpha'(t) / (1 - alpha(t))."""
        return -self.dalpha(t) / (1 - self.alpha(t))


@dataclasses.dataclass(frozen=True)
class Linear(Schedule):
    """alpha = 1 - t, w = 1/t: the expected fraction of masked tokens grows linearly."""

    def alpha(self, t):
        return 1 - t

    def dalpha(self, t):
        return -torch.ones_like(t)

    def weight(self, t):
        return 1 / t


@dataclasses.dataclass(frozen=True)
class Cosine(Schedule):
    """alpha = 1 - cos(pi/2 (1 - t)), w = (pi/2) tan(pi/2 (1 - t)): few tokens masked early."""

    def alpha(self, t):
        return 1 - torch.cos(math.pi / 2 * (1 - t))

    def dalpha(self, t):
        return -math.pi / 2 * torch.sin(math.pi / 2 * (1 - t))

    def weight(self, t):
        return math.pi / 2 * torch.tan(math.pi / 2 * (1 - t))


@dataclasses.dataclass(frozen=True)
class Polynomial(Schedule):
    """alpha = 1 - t^p, w = p / t (p = 1 is Linear)."""

    p: float = 2.0

    def __post_init__(self):
        if not self.p > 0:
            raise ValueError(f"Polynomial schedule needs p > 0, got p={self.p}")

    def alpha(self, t):
        return 1 - t**self.p

    def dalpha(self, t):
        return -self.p * t ** (self.p - 1)

    def weight(self, t):
        return self.p / t


SCHEDULES = {"linear": Linear, "cosine": Cosine, "polynomial": Polynomial}


def get_schedule(name: str, **kwargs) -> Schedule:
    """The schedule called `name` (linear, cosine, polynomial), e.g. get_schedule("polynomial", p=2)."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule {name!r}: valid names are {tuple(SCHEDULES)}")
    return SCHEDULES[name](**kwargs)
