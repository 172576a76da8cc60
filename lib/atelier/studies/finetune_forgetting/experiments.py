"""The study's experiments, one call each from the notebook.

1. ``pretrain_sizes``: every model size on the pretraining mixture (kept in memory).
2. ``finetune_grid``: every size x target x target-set size x injection fraction, the losses
   along each run (``trajectories``) and one summary row per run (``summarise``).
3. ``law_points``: every run on a larger target validation set, its losses averaged over
   pretraining seeds and its early stop located in continuous time; ``fit_laws``: the forgetting
   law (both variants) and the target-loss law fitted to them on all sizes but
   ``cfg.heldout_width`` and tested on it.
4. ``injection_knee``: forgetting and target loss against p, relative to p = 0.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from atelier.studies.finetune_forgetting.config import Config
from atelier.studies.finetune_forgetting.data import Corpora
from atelier.studies.finetune_forgetting.laws import MIN_POINTS, VARIANTS, fit_forgetting, fit_target
from atelier.studies.finetune_forgetting.training import Pretrained, finetune, pretrain

RUN = ["width", "params", "domain", "target_tokens", "p"]  # the columns that name a finetuning run


def pretrain_sizes(cfg: Config, corpora: Corpora, seed: int = 0) -> dict[int, Pretrained]:
    if cfg.heldout_width not in cfg.widths:
        raise ValueError(f"heldout_width={cfg.heldout_width} is not one of widths={cfg.widths}")
    return {width: pretrain(cfg, corpora, width, seed) for width in cfg.widths}


def pretraining_curves(models: dict[int, Pretrained]) -> pl.DataFrame:
    """Validation loss on the pretraining mixture along pretraining: width, params, step, val_loss."""
    return pl.concat([
        m.metrics.select("step", "val_loss").drop_nulls().with_columns(width=pl.lit(w), params=pl.lit(m.params))
        for w, m in models.items()
    ])


def finetune_grid(cfg: Config, corpora: Corpora, models: dict[int, Pretrained], seed: int = 0,
                  early_stop: bool = False) -> pl.DataFrame:
    """Losses along every finetuning run, with forgetting = pretrain_loss - its value at step 0
    (with ``early_stop``, each run only up to its early stop: ``finetune``)."""
    runs = [finetune(cfg, models[w], corpora, domain, tokens, p, seed, early_stop=early_stop)
            for w in cfg.widths for domain in cfg.targets for tokens in cfg.target_tokens for p in cfg.injection]
    return pl.concat(runs).with_columns(
        forgetting=pl.col("pretrain_loss") - pl.col("pretrain_loss").first().over(RUN))


def continuous_early_stop(steps, target_loss, forgetting, half: int = 3) -> tuple[float, float]:
    """The early stop of one run located between evaluated steps: (s*, forgetting at s*).

    The target validation loss is fitted by a parabola in log(step) over its lowest evaluation and
    the ``half`` evaluations either side; s* is the parabola's vertex (kept inside those points;
    the lowest evaluated step if the parabola is not convex), and the forgetting at s* is
    interpolated linearly in log(step) between the evaluations around it.

    Why: at cpu scale the early stop of a small target set comes 8-15 steps into finetuning, so one
    step is about 10% of the early-stop time, and the forgetting grows 10-40% per step there. The
    lowest evaluated step snaps the early stop to that integer grid (the forgetting jumps with it),
    and which integer wins is decided by tiny differences of a flat target loss. At the paper's
    scale (thousands of steps to the early stop) the grid is negligibly fine; here the early stop
    is located in continuous time instead.
    """
    steps, target_loss, forgetting = (np.asarray(v, float) for v in (steps, target_loss, forgetting))
    if steps.ndim != 1 or not len(steps) == len(target_loss) == len(forgetting) or len(steps) < 1:
        raise ValueError(f"need equal-length 1-d steps, target_loss and forgetting; got shapes {steps.shape}, "
                         f"{target_loss.shape}, {forgetting.shape}")
    if (steps <= 0).any() or (np.diff(steps) <= 0).any():
        raise ValueError(f"steps must be positive and increasing, got {steps.tolist()}")
    x = np.log(steps)
    i = int(np.argmin(target_loss))
    window = slice(max(0, i - half), min(len(x), i + half + 1))
    xw = x[window]
    vertex = x[i]
    if len(xw) >= 3:
        c2, c1, _ = np.polyfit(xw, target_loss[window], 2)
        if c2 > 0:
            vertex = float(np.clip(-c1 / (2 * c2), xw[0], xw[-1]))
    return float(np.exp(vertex)), float(np.interp(vertex, x, forgetting))


def early_stops(curves: pl.DataFrame) -> pl.DataFrame:
    """Per run of ``curves`` (the RUN columns, step > 0, target_loss, forgetting): its early stop
    located in continuous time (``continuous_early_stop``): stop_step, forgetting_stop."""
    return pl.DataFrame(
        [dict(zip(RUN, key)) | dict(zip(("stop_step", "forgetting_stop"), continuous_early_stop(
            run["step"], run["target_loss"], run["forgetting"]))) for key, run in curves.sort("step").group_by(RUN)],
        schema=curves.select(RUN).schema | {"stop_step": pl.Float64, "forgetting_stop": pl.Float64})


def summarise(trajectories: pl.DataFrame) -> pl.DataFrame:
    """One row per run: the pretraining loss before, the early-stopped checkpoint (lowest target
    validation loss after step 0: best_step, target_best, forgetting), the same early stop located
    in continuous time (``early_stops``: stop_step, forgetting_stop) and the end of finetuning."""
    tuned = trajectories.filter(pl.col("step") > 0).sort("step")
    best = tuned.sort("target_loss").group_by(RUN, maintain_order=True).first()
    last = tuned.group_by(RUN, maintain_order=True).last()
    before = trajectories.filter(pl.col("step") == 0).select(*RUN, before="pretrain_loss",
                                                             target_before="target_loss")
    return (before
            .join(best.select(*RUN, best_step="step", target_best="target_loss", forgetting="forgetting"), on=RUN)
            .join(early_stops(tuned), on=RUN)
            .join(last.select(*RUN, target_end="target_loss", forgetting_end="forgetting"), on=RUN)
            .sort(RUN))


def seed_mean_curves(trajectories: pl.DataFrame) -> pl.DataFrame:
    """The losses of every run (RUN columns) averaged over its seeds (``seed`` column), at the steps
    that every seed of the run evaluated (early-stopped runs of different seeds end at different
    steps): the RUN columns, step, pretrain_loss, target_loss, forgetting, seeds."""
    return (trajectories.group_by(*RUN, "step").agg(pl.col("pretrain_loss", "target_loss", "forgetting").mean(),
                                                   seeds=pl.col("seed").n_unique())
            .filter(pl.col("seeds") == pl.col("seeds").max().over(RUN)).sort(*RUN, "step"))  # step 0: every seed


def law_points(cfg: Config, corpora: Corpora, models: dict[int, Pretrained],
               seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The forgetting law's points: every run of the grid again, stopped ``cfg.patience``
    evaluations past its lowest target validation loss on ``corpora.law_val`` (cfg.law_val_blocks
    blocks), for the models of ``seed`` and of cfg.law_seeds - 1 more pretraining seeds (seed + 1,
    ...: another initialisation and order of the same pretraining data, and another finetuning
    stream order); a run's point is the early stop of its seed-mean curves, located in continuous
    time (``seed_mean_curves``, ``early_stops``).

    Why: on a validation set of cfg.val_blocks blocks the early stop of these runs moves by about
    a step (of 8-15) from one set to another, and the forgetting with it by 20-25%; one pretrained
    model moves it by ~14% more. The larger set and the seeds measure the early-stopped forgetting
    of a model size rather than that of one validation set and one pretrained model. The stop of
    the mean curves rather than the mean of each seed's stop: a seed's stop also jitters by about a
    step, and since the forgetting grows faster than linearly in the step there, the mean of the
    seeds' stopped forgetting is biased upwards by that jitter, most for the noisiest (smallest)
    models.
    Returns (one summary row per run and seed (``summarise``), one row per run: before,
    stop_step, forgetting_stop and target_best (the lowest target loss) of the seed-mean curves,
    the seeds' spread forgetting_stop_sd of their own stops, and seeds)."""
    summaries, curves = [], []
    for k in range(cfg.law_seeds):
        sized = models if k == 0 else pretrain_sizes(cfg, corpora, seed + k)
        trajectories = finetune_grid(cfg, corpora, sized, seed + k, early_stop=True)
        summaries.append(summarise(trajectories).with_columns(seed=pl.lit(seed + k)))
        curves.append(trajectories.with_columns(seed=pl.lit(seed + k)))
    per_seed = pl.concat(summaries)
    mean = seed_mean_curves(pl.concat(curves))
    tuned = mean.filter(pl.col("step") > 0)
    points = (mean.filter(pl.col("step") == 0).select(*RUN, "seeds", before="pretrain_loss")
              .join(tuned.group_by(RUN).agg(target_best=pl.col("target_loss").min()), on=RUN)
              .join(early_stops(tuned), on=RUN)
              .join(per_seed.group_by(RUN).agg(forgetting_stop_sd=pl.col("forgetting_stop").std()), on=RUN))
    return per_seed, points.select(*RUN, "before", "stop_step", "forgetting_stop", "target_best",
                                   "forgetting_stop_sd", "seeds").sort(RUN)


def fit_laws(cfg: Config, points: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per target domain: both forgetting-law variants (on forgetting_stop, the forgetting at the
    continuous early stop) and the target-loss law (on target_best), over every p, fitted on every
    width but cfg.heldout_width. ``points``: one row per run (``law_points`` or ``summarise``).
    Returns (parameters and errors per law, predictions per run) with split = "fit" | "held out"
    and relative errors |pred - meas| / meas."""
    params, predictions = [], []
    for domain in cfg.targets:
        rows = points.filter(pl.col("domain") == domain).with_columns(
            forgetting=pl.col("forgetting_stop"),
            split=pl.when(pl.col("width") == cfg.heldout_width).then(pl.lit("held out")).otherwise(pl.lit("fit")))
        positive = rows.filter(pl.col("forgetting") > 0)
        for variant in VARIANTS:
            if positive.filter(pl.col("split") == "fit").height < MIN_POINTS:  # e.g. barely pretrained models
                params.append({"domain": domain, "law": f"forgetting ({variant})",
                               "excluded_non_positive": rows.height - positive.height})
                continue
            law = fit_forgetting(positive.filter(pl.col("split") == "fit"), variant)
            pred = positive.with_columns(law=pl.lit(f"forgetting ({variant})"), measured=pl.col("forgetting"),
                                         predicted=pl.Series(law.forgetting(*(positive[c].to_numpy() for c in
                                                             ("params", "target_tokens", "p", "before")))))
            predictions.append(pred)
            params.append({"domain": domain, "law": f"forgetting ({variant})", "A": law.A, "B": law.B,
                           "a": law.a, "b": law.b, "excluded_non_positive": rows.height - positive.height})
        target = fit_target(rows.filter(pl.col("split") == "fit"))
        predictions.append(rows.with_columns(law=pl.lit("target loss"), measured=pl.col("target_best"),
                                             predicted=pl.Series(target.predict(rows["params"].to_numpy(),
                                                                                rows["target_tokens"].to_numpy()))))
        params.append({"domain": domain, "law": "target loss", "E": target.E, "A": target.A, "a": target.alpha,
                       "B": target.B, "b": target.beta, "excluded_non_positive": 0})
    pred = pl.concat(predictions, how="diagonal_relaxed").with_columns(
        rel_error=(pl.col("predicted") - pl.col("measured")).abs() / pl.col("measured").abs())
    errors = pred.group_by("domain", "law", "split").agg(pl.col("rel_error").mean()).pivot(
        "split", index=["domain", "law"], values="rel_error")
    errors = errors.rename({"fit": "fit_rel_error", "held out": "heldout_rel_error"})
    table = pl.DataFrame(params, infer_schema_length=None).join(errors, on=["domain", "law"], how="left")
    return table, pred


def injection_knee(runs: pl.DataFrame, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """Per p (and per ``by`` columns, e.g. ("width",)): forgetting (end of finetuning and
    early-stopped) and early-stopped target loss, averaged over the other runs, relative to p = 0."""
    cell = ["width", "domain", "target_tokens"]
    base = runs.filter(pl.col("p") == 0).select(*cell, f0="forgetting_end", fes0="forgetting", t0="target_best")
    joined = runs.join(base, on=cell)
    return joined.group_by(*by, "p").agg(
        forgetting_end=pl.col("forgetting_end").mean(), forgetting_best=pl.col("forgetting").mean(),
        removed_end=1 - pl.col("forgetting_end").mean() / pl.col("f0").mean(),
        removed_best=1 - pl.col("forgetting").mean() / pl.col("fes0").mean(),
        target_change=(pl.col("target_best") / pl.col("t0") - 1).mean(),
        target_change_max=(pl.col("target_best") / pl.col("t0") - 1).abs().max(),
    ).sort(*by, "p")
