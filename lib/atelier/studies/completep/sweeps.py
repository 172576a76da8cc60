"""Loss against base learning rate across width (at the base depth) and depth (at the base width).

At the base depth muP and CompleteP are the same parameterisation (m_d = 1), so the width sweep
compares SP with CompleteP (= muP there); at the base width SP and muP coincide up to the
attention scale (m_w = 1), so the depth sweep compares muP (no depth scaling) with CompleteP.
Every run reads the same batches, and every curve uses the same initialisation seeds (common random
numbers); each loss is a mean over cfg.seeds initialisations (cfg.contrast_seeds for muP's depth
curves, a contrast rather than a claim), and the per-seed losses are kept for the bootstrap.

Each width curve is measured on the coarse grid ``cfg.log2_lrs``, extended by grid steps past its end
while its minimum sits there (at most ``cfg.max_extensions`` times), then refined with
``cfg.refine_offsets`` around its minimum, so the parabola fit sees finely spaced points where it
matters. The depth sweep trains ``cfg.depth_steps`` steps on the fine grid ``cfg.depth_log2_lrs``
(extended the same way, refined with ``cfg.depth_refine_offsets``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from atelier.data.datamodule import TextDataModule
from atelier.studies.completep.config import Config
from atelier.studies.completep.models import build_model
from atelier.studies.completep.training import seed_losses, train_config

AXES = {"width": ("sp", "completep"), "depth": ("mup", "completep")}
LABELS = {"sp": "SP", "mup": "muP", "completep": "CompleteP"}


def sizes(cfg: Config, axis: str) -> list[tuple[int, int]]:
    """(width, depth) of every model along ``axis``."""
    if axis == "width":
        return [(w, cfg.base_depth) for w in cfg.sweep_widths]
    if axis == "depth":
        return [(cfg.base_width, d) for d in cfg.sweep_depths]
    raise ValueError(f"axis={axis!r}: valid axes are {tuple(AXES)}")


def measure_curve(loss: Callable[[float], float], grid: Sequence[float], max_extensions: int,
                  refine_offsets: Sequence[float]) -> dict[float, float]:
    """{log2 LR: loss} of one curve: the coarse grid, extended past an end that holds the minimum, then
    refined around the minimum. ``loss`` trains one run (nan = diverged)."""
    grid = sorted(grid)
    step = min(b - a for a, b in zip(grid, grid[1:])) if len(grid) > 1 else 1.0
    curve = {x: loss(x) for x in grid}
    for _ in range(max_extensions):
        best = _best(curve)
        if best is None or min(curve) < best < max(curve):
            break
        nxt = best + step if best == max(curve) else best - step
        curve[nxt] = loss(nxt)
    best = _best(curve)
    if best is not None:
        for x in (best + d for d in refine_offsets):
            if x not in curve:
                curve[x] = loss(x)
    return dict(sorted(curve.items()))


def _best(curve: dict[float, float]) -> float | None:
    """log2 LR of the lowest finite loss (None when every run diverged)."""
    finite = [x for x, y in curve.items() if not math.isnan(y)]
    return min(finite, key=curve.get) if finite else None


def sweep_settings(cfg: Config, axis: str, kind: str) -> tuple[Sequence[float], Sequence[float], int, int]:
    """(grid, refine offsets, steps, seeds) of the curves of ``kind`` along ``axis``."""
    if axis == "width":
        return cfg.log2_lrs, cfg.refine_offsets, cfg.steps, cfg.seeds
    seeds = cfg.contrast_seeds if kind == "mup" else cfg.seeds
    return cfg.depth_log2_lrs, cfg.depth_refine_offsets, cfg.depth_steps, seeds


def lr_sweep(cfg: Config, datamodule: TextDataModule, axis: str, seed: int,
             kinds: Sequence[str] | None = None) -> pl.DataFrame:
    """Final validation loss for every (kind, size, log2 LR) of ``axis`` (kinds: the axis's comparison
    unless given): columns axis, param, kind, width, depth, log2_lr, loss (mean over the initialisations;
    nan = diverged) and seed_losses (one per initialisation, the same seeds in every curve)."""
    vocab = datamodule.tokenizer.vocab_size
    rows = []
    for kind, (width, depth) in itertools.product(kinds or AXES[axis], sizes(cfg, axis)):
        grid, refine, steps, seeds = sweep_settings(cfg, axis, kind)
        per_seed: dict[float, list[float]] = {}

        def loss(log2_lr, kind=kind, width=width, depth=depth, steps=steps, seeds=seeds, per_seed=per_seed):
            per_seed[log2_lr] = seed_losses(lambda s: build_model(cfg, vocab, kind, width, depth, s),
                                            train_config(cfg, log2_lr, seed, steps=steps), datamodule,
                                            f"sweep-{kind}-w{width}-d{depth}-lr{log2_lr:+.2f}", seeds)
            return float(np.mean(per_seed[log2_lr]))

        curve = measure_curve(loss, grid, cfg.max_extensions, refine)
        rows += [{"axis": axis, "param": LABELS[kind], "kind": kind, "width": width, "depth": depth,
                  "log2_lr": x, "loss": y, "seed_losses": per_seed[x]} for x, y in curve.items()]
    return pl.DataFrame(rows)
