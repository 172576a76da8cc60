"""The interacting particle system dx_i/dt = Gamma[mu_n](x_i), integrated in time.

Every token moves with the attention output of the whole cloud, so one step costs one (or, for
RK4, four) O(n^2 d) attention evaluations, batched over independent clouds. ``sphere=True``
keeps the tokens on the unit sphere (the layer-normalised model in which clustering is usually
studied): the velocity is projected on the tangent space and the tokens renormalised each step.
"""

from __future__ import annotations

from typing import Callable

import torch

METHODS = ("euler", "rk4")

Field = Callable[[torch.Tensor], torch.Tensor]


def tangent(field: Field) -> Field:
    """The field projected on the sphere's tangent space: v - <v, x> x."""

    def projected(x: torch.Tensor) -> torch.Tensor:
        v = field(x)
        return v - (v * x).sum(-1, keepdim=True) * x

    return projected


def step(field: Field, x: torch.Tensor, dt: float, method: str = "rk4") -> torch.Tensor:
    """One explicit Euler or classical Runge-Kutta step of dx/dt = field(x)."""
    if method == "euler":
        return x + dt * field(x)
    if method == "rk4":
        k1 = field(x)
        k2 = field(x + dt / 2 * k1)
        k3 = field(x + dt / 2 * k2)
        k4 = field(x + dt * k3)
        return x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")


@torch.no_grad()
def simulate(
    field: Field,
    x0: torch.Tensor,
    t_end: float,
    steps: int,
    save_every: int = 1,
    method: str = "rk4",
    sphere: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Integrate the particles from ``x0`` (..., n, d) to ``t_end`` in ``steps`` equal steps.

    Returns (times (F,), frames (F, ..., n, d)) with the initial state and every
    ``save_every``-th step (the last step is always kept).
    """
    if steps < 1 or save_every < 1:
        raise ValueError(f"steps={steps} and save_every={save_every} must be >= 1")
    dt = t_end / steps
    if sphere:
        field = tangent(field)
        x0 = x0 / x0.norm(dim=-1, keepdim=True)
    x, times, frames = x0, [0.0], [x0]
    for k in range(1, steps + 1):
        x = step(field, x, dt, method)
        if sphere:
            x = x / x.norm(dim=-1, keepdim=True)
        if k % save_every == 0 or k == steps:
            times.append(k * dt)
            frames.append(x)
    return torch.tensor(times, dtype=torch.float64), torch.stack(frames)
