"""The quickstart experiment: train a tiny causal transformer on a known Markov chain.

``run(cfg, seed)`` builds the chain, the data and the model, measures the validation loss
before training, trains with ``atelier.train.fit`` and returns the curves together with the
losses the chain makes possible (uniform guess, best one-token predictor, true floor).
``build(cfg)`` is the same job as a launchable builder, so that
``atelier.train.launch("atelier.studies.quickstart:build", cfg, train_config(cfg, seed), devices=2)``
trains it on several devices.
"""

from __future__ import annotations

import dataclasses
import math

import altair as alt
import polars as pl
import torch
from torch.utils.data import DataLoader

from atelier.nn import Transformer, TransformerConfig
from atelier.report import Claim
from atelier.studies.quickstart.config import Config
from atelier.studies.quickstart.markov import MarkovChain, SequenceDataset
from atelier.train import NextTokenLoss, TrainConfig, TrainingJob, build_job, evaluate, fit

BUILDER = "atelier.studies.quickstart:build"


def chain_of(cfg: Config) -> MarkovChain:
    return MarkovChain.random(cfg.vocab_size, cfg.concentration, cfg.chain_seed)


def build(cfg: Config) -> TrainingJob:
    """Model, objective and data of the study, drawn from the global torch RNG (seed it first).

    Training data are fresh samples of the chain, exactly ``steps x batch_size`` sequences,
    so no sequence is seen twice; validation data are ``val_sequences`` further samples.
    """
    chain = chain_of(cfg)
    model = Transformer(TransformerConfig(vocab_size=cfg.vocab_size, width=cfg.width, depth=cfg.depth,
                                          n_heads=cfg.n_heads, max_len=cfg.seq_len))
    train = chain.sample(cfg.steps * cfg.batch_size, cfg.seq_len)
    val = chain.sample(cfg.val_sequences, cfg.seq_len)
    return TrainingJob(
        model=model,
        objective=NextTokenLoss(),
        train=DataLoader(SequenceDataset(train), batch_size=cfg.batch_size),
        val=DataLoader(SequenceDataset(val), batch_size=cfg.batch_size),
    )


def train_config(cfg: Config, seed: int) -> TrainConfig:
    return TrainConfig(steps=cfg.steps, lr=cfg.lr, warmup_steps=cfg.warmup_steps, schedule=cfg.schedule,
                       weight_decay=cfg.weight_decay, log_every=cfg.log_every, val_every=cfg.steps // 5 or None,
                       seed=seed)


@dataclasses.dataclass(frozen=True)
class QuickstartResult:
    metrics: pl.DataFrame  # one row per logged step: loss, val_loss, lr, grad_norm, tokens, tokens_per_s, mfu
    initial_loss: float  # validation loss before training (nats/token)
    final_loss: float  # validation loss after training
    uniform: float  # log V: a uniform guess
    first_order: float  # best loss of a predictor that sees only the previous token
    floor: float  # best achievable mean loss on these sequences
    model: torch.nn.Module


def run(cfg: Config, seed: int = 0) -> QuickstartResult:
    """Train the model of ``cfg`` and measure it against the chain's entropy floors."""
    job = build_job(BUILDER, cfg, seed)
    initial = evaluate(job.model, job.objective, job.val)["loss"]
    result = fit(train_config(cfg, seed), job.model, job.objective, job.train, job.val, name="quickstart")
    chain = chain_of(cfg)
    return QuickstartResult(
        metrics=result.metrics,
        initial_loss=initial,
        final_loss=result.metrics.filter(pl.col("val_loss").is_not_null())["val_loss"][-1],
        uniform=math.log(cfg.vocab_size),
        first_order=chain.first_order_entropy(),
        floor=chain.sequence_floor(cfg.seq_len),
        model=result.model,
    )


def summary_table(result: QuickstartResult) -> pl.DataFrame:
    """The losses that frame the run, in nats per predicted token."""
    return pl.DataFrame({
        "quantity": ["uniform guess (log V)", "validation loss before training", "best one-token predictor",
                     "validation loss after training", "true entropy floor"],
        "nats_per_token": [result.uniform, result.initial_loss, result.first_order, result.final_loss,
                           result.floor],
    })


def loss_chart(result: QuickstartResult) -> alt.LayerChart:
    """Training and validation loss (step 0: before training) against optimizer steps, with the
    chain's floors as rules."""
    before = pl.DataFrame({"step": [0], "split": ["validation"], "nats": [result.initial_loss]})
    curves = pl.concat([
        before,
        result.metrics.unpivot(index="step", on=["loss", "val_loss"], variable_name="split", value_name="nats")
        .drop_nulls("nats")
        .with_columns(pl.col("split").replace({"loss": "train", "val_loss": "validation"})),
    ], how="vertical_relaxed")
    floors = pl.DataFrame({
        "reference": ["best one-token predictor", "true entropy floor"],
        "nats": [result.first_order, result.floor],
    })
    lines = alt.Chart(curves).mark_line(point=True).encode(
        x=alt.X("step:Q", title="optimizer step"),
        y=alt.Y("nats:Q", title="loss (nats per token)"),
        color=alt.Color("split:N", title="loss"),
    )
    rules = alt.Chart(floors).mark_rule(color="gray", strokeWidth=1.5).encode(
        y="nats:Q",
        strokeDash=alt.StrokeDash("reference:N", title="reference", scale=alt.Scale(range=[[8, 4], [2, 2]])),
    )
    return (lines + rules).properties(title="Tiny transformer on a second-order Markov chain", width=420,
                                      height=260)


def claims(result: QuickstartResult) -> list[Claim]:
    """The three findings of the tour, measured on the validation set."""
    return [
        Claim("loss_halves", "Validation loss falls below half its value before training (ratio after / before).",
              result.final_loss / result.initial_loss, "<", 0.5, figure="loss_curve"),
        Claim("beats_one_token_context", "The model beats every predictor that sees only the previous token: "
              "validation loss (nats) below the chain's first-order entropy.",
              result.final_loss, "<", result.first_order, figure="loss_curve"),
        Claim("near_entropy_floor", "Validation loss is within 0.1 nats of the true entropy floor "
              "(gap in nats per token).", result.final_loss - result.floor, "<=", 0.1, figure="loss_curve"),
    ]
