"""Trust-region random search over per-module hyperparameter multipliers (in log2 units).

Reconstructed from the description in arXiv 2512.22382 (per-module hyperparameters under
Complete(d)P): start from the best global hyperparameters (every multiplier 1, i.e. 0 in log2),
and in each round draw candidates uniformly inside a box of half-width ``radius`` around the
incumbent. In a space of ~20 knobs a move of every knob at once almost never helps, so each
candidate moves a random subset of about ``moves`` knobs. The best candidate replaces the
incumbent when it lowers the loss; a round without improvement halves the radius (the trust
region shrinks onto the incumbent).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from atelier.nn.parameterisation import KNOBS

# every (module, knob) the search tunes: LR, init, weight decay, eps and forward multipliers
SEARCH_SPACE: tuple[tuple[str, str], ...] = tuple((m, k) for m, knobs in KNOBS.items() for k in knobs)


@dataclasses.dataclass(frozen=True)
class SearchResult:
    best: dict[tuple[str, str], float]  # log2 multiplier of every knob at the incumbent
    best_loss: float
    history: pl.DataFrame  # trial, round, radius, loss, accepted, and one column per knob


def trust_region_search(objective: Callable[[dict[tuple[str, str], float]], float],
                        space: Sequence[tuple[str, str]], rounds: int, candidates: int, radius: float,
                        seed: int, moves: int = 4, shrink: float = 0.5) -> SearchResult:
    """Minimise ``objective`` (a dict knob -> log2 multiplier to a loss) from all-zeros."""
    if rounds < 0 or candidates < 1 or radius <= 0 or not 0 < shrink < 1:
        raise ValueError(f"need rounds >= 0, candidates >= 1, radius > 0 and 0 < shrink < 1; got {rounds}, "
                         f"{candidates}, {radius}, {shrink}")
    rng = np.random.default_rng(seed)
    names = list(space)
    incumbent = np.zeros(len(names))
    best = objective(dict(zip(names, incumbent)))
    rows = [{"trial": 0, "round": 0, "radius": 0.0, "loss": best, "accepted": True, **_named(names, incumbent)}]
    for r in range(1, rounds + 1):
        draws = []
        for _ in range(candidates):
            moved = rng.random(len(names)) < min(1.0, moves / len(names))
            x = incumbent + moved * rng.uniform(-radius, radius, len(names))
            draws.append((x, objective(dict(zip(names, x)))))
        losses = np.array([loss for _, loss in draws], dtype=float)
        j = int(np.nanargmin(losses)) if np.isfinite(losses).any() else -1
        accepted = j >= 0 and losses[j] < best
        for i, (x, loss) in enumerate(draws):
            rows.append({"trial": len(rows), "round": r, "radius": radius, "loss": loss,
                         "accepted": bool(accepted and i == j), **_named(names, x)})
        if accepted:
            incumbent, best = draws[j][0], float(losses[j])
        else:
            radius *= shrink
    return SearchResult(dict(zip(names, incumbent.tolist())), best, pl.DataFrame(rows))


def _named(names, x) -> dict[str, float]:
    return {f"{m}.{k}": float(v) for (m, k), v in zip(names, x)}


def multipliers(log2_mults: dict[tuple[str, str], float]) -> dict[str, dict[str, float]]:
    """Parameterisation multipliers {module: {knob: 2 ** log2}} of a search point."""
    out: dict[str, dict[str, float]] = {}
    for (module, knob), value in log2_mults.items():
        out.setdefault(module, {})[knob] = 2.0 ** value
    return out
