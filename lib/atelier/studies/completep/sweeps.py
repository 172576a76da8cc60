"""Loss against base learning rate across width (at the base depth) and depth (at the base width).

At the base depth muP and CompleteP are the same parameterisation (m_d = 1), so the width sweep
compares SP with CompleteP (= muP there); at the base width SP and muP coincide up to the
attention scale (m_w = 1), so the depth sweep compares muP (no depth scaling) with CompleteP.
Every run reads the same batches; each loss is a mean over cfg.seeds initialisations.

Each curve is measured on the coarse grid ``cfg.log2_lrs``, extended by grid steps past its end while
its minimum sits there (at most ``cfg.max_extensions`` times), then refined with ``cfg.refine_offsets``
around its minimum, so the parabola fit sees finely spaced points where it matters.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import polars as pl

from atelier.data.datamodule import TextDataModule
from atelier.studies.completep.config import Config
from atelier.studies.completep.models import build_model
from atelier.studies.completep.training import mean_loss, train_config

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


def lr_sweep(cfg: Config, datamodule: TextDataModule, axis: str, seed: int) -> pl.DataFrame:
    """Final validation loss (mean over cfg.seeds initialisations) for every (kind, size, log2 LR) of
    ``axis``: columns axis, param, kind, width, depth, log2_lr, loss (nan = diverged)."""
    vocab = datamodule.tokenizer.vocab_size
    rows = []
    for kind, (width, depth) in itertools.product(AXES[axis], sizes(cfg, axis)):
        def loss(log2_lr, kind=kind, width=width, depth=depth):
            return mean_loss(cfg, lambda s: build_model(cfg, vocab, kind, width, depth, s),
                             train_config(cfg, log2_lr, seed), datamodule,
                             name=f"sweep-{kind}-w{width}-d{depth}-lr{log2_lr:+.2f}")

        curve = measure_curve(loss, cfg.log2_lrs, cfg.max_extensions, cfg.refine_offsets)
        rows += [{"axis": axis, "param": LABELS[kind], "kind": kind, "width": width, "depth": depth,
                  "log2_lr": x, "loss": y} for x, y in curve.items()]
    return pl.DataFrame(rows)
