"""Per-module hyperparameters: search on the small base model, transfer to a larger one.

The search (search.trust_region_search) tunes log2 multipliers of LR, init, weight decay, eps
and forward multipliers per module class on the base model (base_width x base_depth) at the
best global base LR. Under CompleteP these multipliers are relative to the scaled rules, so they
are used unchanged on the target model (target_width x target_depth). There the transferred
per-module run is compared with the best global-only run at that size, both validated every
``val_every`` steps: lower final loss at equal steps,
and a speed-up = steps of the global run / steps the per-module run needs to reach the global
run's final loss. Every loss, on the proxy and on the target, is a mean over cfg.seeds initialisations.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import polars as pl

from atelier.data.datamodule import TextDataModule
from atelier.studies.completep.config import Config
from atelier.studies.completep.models import build_model
from atelier.studies.completep.optimum import optima
from atelier.studies.completep.search import SEARCH_SPACE, SearchResult, multipliers, trust_region_search
from atelier.studies.completep.sweeps import lr_sweep
from atelier.studies.completep.training import mean_loss, train_config, train_run


@dataclasses.dataclass(frozen=True)
class PerModuleResult:
    search: SearchResult
    curves: pl.DataFrame  # hparams (global-only | per-module), step, val_loss (mean over seeds) on the target
    global_loss: float  # final validation loss of the best global-only run on the target
    per_module_loss: float  # final validation loss of the transferred per-module run
    speedup: float  # global steps / per-module steps to reach global_loss (nan: never reached)


def steps_to_reach(curve: pl.DataFrame, target: float) -> float:
    """First step (linearly interpolated between validations) at which val_loss <= target; nan if never."""
    steps, losses = curve["step"].to_numpy().astype(float), curve["val_loss"].to_numpy()
    hit = np.flatnonzero(losses <= target)
    if len(hit) == 0:
        return float("nan")
    i = int(hit[0])
    if i == 0:
        return float(steps[0])
    s0, s1, l0, l1 = steps[i - 1], steps[i], losses[i - 1], losses[i]
    return float(s0 + (s1 - s0) * (l0 - target) / (l0 - l1))


def global_only(cfg: Config, datamodule: TextDataModule, seed: int) -> tuple[Config, pl.DataFrame, float, float]:
    """Global-only hyperparameters: one LR for every module (``hidden_lr`` = 1), as the papers define global
    ones. Returns (that config, its CompleteP LR curves at the base and the target width, the optimal
    log2 LR at the base width, at the target width)."""
    single = cfg.override(hidden_lr=1.0, sweep_widths=tuple(sorted({cfg.base_width, cfg.target_width})))
    sweep = lr_sweep(single, datamodule, "width", seed, kinds=("completep",))
    best = dict(optima(sweep, ["width"]).select("width", "opt_log2_lr").iter_rows())
    return single, sweep, best[cfg.base_width], best[cfg.target_width]


def per_module_transfer(cfg: Config, datamodule: TextDataModule, base_log2_lr: float, target_log2_lr: float,
                        seed: int) -> PerModuleResult:
    """Search on the base model at ``base_log2_lr``; compare on the target at ``target_log2_lr`` (its
    global-only optimum) with the per-module run at base_log2_lr and the found multipliers."""
    vocab = datamodule.tokenizer.vocab_size
    trials = itertools.count()

    def proxy_loss(log2_mults):
        return mean_loss(cfg, lambda s: build_model(cfg, vocab, "completep", cfg.base_width, cfg.base_depth, s,
                                                    multipliers=multipliers(log2_mults)),
                         train_config(cfg, base_log2_lr, seed), datamodule, name=f"search-{next(trials):03d}")

    search = trust_region_search(proxy_loss, SEARCH_SPACE, cfg.search_rounds, cfg.search_candidates,
                                 cfg.search_radius, seed)
    runs = {"global-only": (target_log2_lr, None), "per-module": (base_log2_lr, multipliers(search.best))}
    curves = []
    for label, (log2_lr, mults) in runs.items():
        for i in range(cfg.seeds):  # validation curves averaged over the same initialisations as the search
            model = build_model(cfg, vocab, "completep", cfg.target_width, cfg.target_depth, seed + i,
                                multipliers=mults)
            result = train_run(model, train_config(cfg, log2_lr, seed, val_every=cfg.val_every), datamodule,
                               name=f"target-{label}-s{i}")
            curves.append(result.metrics.filter(pl.col("val_loss").is_not_null())
                          .select("step", "val_loss").with_columns(pl.lit(label).alias("hparams")))
    mean = pl.concat(curves).group_by("hparams", "step").agg(pl.col("val_loss").mean()).sort("hparams", "step")
    final = {label: float(c["val_loss"][-1]) for (label,), c in mean.group_by("hparams")}
    reach = steps_to_reach(mean.filter(pl.col("hparams") == "per-module"), final["global-only"])
    return PerModuleResult(search=search, curves=mean, global_loss=final["global-only"],
                           per_module_loss=final["per-module"], speedup=cfg.steps / reach)
