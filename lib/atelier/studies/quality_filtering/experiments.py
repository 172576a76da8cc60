"""The experiments: build pool, HQ set, classifier and tasks; train the filtered and the
synthetic-quality language models; measure each on the tasks and the held-out HQ documents.

``prepare`` does everything that needs no training. ``filtering_runs`` trains one model per
keep fraction r on the top-r% of the pool by classifier score; ``synthetic_runs`` trains one
per quality q on the HQ train documents with a fraction 1 - q of their tokens permuted. Both
return a Runs: per-task accuracy and per-document HQ losses of every model, and the curves.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl

from atelier import data
from atelier.studies.quality_filtering.classifier import QualityClassifier, keep_top
from atelier.studies.quality_filtering.config import Config
from atelier.studies.quality_filtering.lm import answer_logprobs, document_losses, train_lm
from atelier.studies.quality_filtering.permute import permute_fraction
from atelier.studies.quality_filtering.pool import build_pool, hq_split
from atelier.studies.quality_filtering.tasks import (
    choice_accuracy, definition_questions, facts_questions, well_formed_questions,
)

CALIBRATED = {"facts_qa": False, "definitions": True}  # see tasks.py


@dataclasses.dataclass
class Setup:
    pool: pl.DataFrame  # domain, id, variant, text, score
    hq_train: pl.DataFrame  # domain, id, text, score
    hq_eval: pl.DataFrame  # domain, id, text, score, quantile (0 = lowest scores)
    questions: pl.DataFrame  # task, relation, group, prompt, answer
    pairs: pl.DataFrame  # task, relation, group, choice, text, correct (well-formedness minimal pairs)
    tokenizer: data.TextTokenizer


@dataclasses.dataclass
class Runs:
    accuracy: pl.DataFrame  # setting, value, task, relation, accuracy
    doc_losses: pl.DataFrame  # setting, value, id, quantile, nll, tokens
    curves: pl.DataFrame  # setting, value, step, loss


def prepare(cfg: Config, seed: int) -> Setup:
    """Pool, HQ train / held-out sets, classifier scores of all three, and the task questions
    (well-formedness from spare held-out documents of the HQ set's majority domain)."""
    hq_train, hq_eval, spare = hq_split(cfg.hq_shares, cfg.hq_train_docs, cfg.hq_eval_docs, cfg.max_doc_chars, seed)
    pool = build_pool(cfg.pool_weights, cfg.pool_chars, cfg.lq_fraction, cfg.max_doc_chars, seed, exclude=hq_train)
    typical = max(cfg.hq_shares, key=cfg.hq_shares.get)  # the HQ set's majority kind
    rng = np.random.default_rng(seed)
    negatives = pool["text"].gather(rng.choice(pool.height, min(pool.height, hq_train.height), replace=False))
    classifier = QualityClassifier(ngrams=cfg.ngrams, C=cfg.classifier_C).fit(hq_train["text"], negatives)
    scores = classifier.score(hq_eval["text"])
    edges = np.quantile(scores, np.linspace(0, 1, cfg.n_quantiles + 1)[1:-1])
    questions = pl.concat([facts_questions(pool, cfg.choices, cfg.facts_groups, seed),
                           definition_questions(pool, cfg.choices, cfg.definition_groups, seed)])
    return Setup(
        pool=pool.with_columns(score=classifier.score(pool["text"])),
        hq_train=hq_train.with_columns(score=classifier.score(hq_train["text"])),
        hq_eval=hq_eval.with_columns(score=scores, quantile=np.searchsorted(edges, scores, side="right")),
        questions=questions,
        pairs=well_formed_questions(spare.filter(pl.col("domain") == typical)["text"], cfg.well_formed_groups, seed),
        tokenizer=data.get_tokenizer("default", vocab_size=cfg.vocab_size),
    )


def measure(model, setup: Setup, cfg: Config) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accuracy per task and relation, loss of every held-out HQ document) of one model."""
    rows = []
    for (task,), questions in setup.questions.group_by("task", maintain_order=True):
        questions = questions.sort("group", maintain_order=True).with_columns(pl.col("group").rank("dense") - 1)
        correct = choice_accuracy(answer_logprobs(model, setup.tokenizer, questions, cfg.choices, cfg.seq_len),
                                  CALIBRATED[task]).ravel()
        rows.append(questions.with_columns(correct=pl.Series(correct)))
    nll, tokens = document_losses(model, setup.tokenizer, setup.pairs["text"], cfg.seq_len)
    pairs = setup.pairs.with_columns(loss=pl.Series(nll / tokens))  # right when the intact text has the lowest
    rows.append(pairs.group_by("task", "relation", "group").agg(pl.col("correct").sort_by("loss").first()).drop("group"))
    accuracy = pl.concat(rows, how="diagonal_relaxed").group_by("task", "relation", maintain_order=True).agg(accuracy=pl.col("correct").mean())
    nll, tokens = document_losses(model, setup.tokenizer, setup.hq_eval["text"], cfg.seq_len)
    losses = setup.hq_eval.select("id", "quantile", nll=pl.Series(nll), tokens=pl.Series(tokens))
    return accuracy, losses


def _run(cfg: Config, setup: Setup, setting: str, value: float, tokens: list[list[int]], seed: int) -> tuple:
    model, curve = train_lm(cfg, tokens, setup.tokenizer.vocab_size, setup.tokenizer.eos_id, seed,
                            name=f"{setting}-{value:g}")
    accuracy, losses = measure(model, setup, cfg)
    tag = {"setting": pl.lit(setting), "value": pl.lit(float(value))}
    curve = curve.filter(pl.col("loss").is_not_null()).select("step", "loss")
    return accuracy.with_columns(**tag), losses.with_columns(**tag), curve.with_columns(**tag)


def _collect(parts: list[tuple]) -> Runs:
    order = ["setting", "value"]
    accuracy, losses, curves = (pl.concat([p[i] for p in parts]) for i in range(3))
    return Runs(accuracy.select(*order, pl.exclude(order)), losses.select(*order, pl.exclude(order)),
                curves.select(*order, pl.exclude(order)))


def filtering_runs(setup: Setup, cfg: Config, seed: int) -> Runs:
    """One model per keep fraction r, trained on the pool's top-r% documents by score."""
    tokens = setup.tokenizer.encode_batch(setup.pool["text"].to_list())
    scores = setup.pool["score"].to_numpy()
    parts = []
    for r in cfg.keep_fractions:
        keep = np.flatnonzero(keep_top(scores, r))
        kept = [tokens[i] for i in np.random.default_rng(seed).permutation(keep)]  # documents in a random order
        parts.append(_run(cfg, setup, "filtering", r, kept, seed))
    return _collect(parts)


def synthetic_runs(setup: Setup, cfg: Config, seed: int) -> Runs:
    """One model per quality q, trained on the HQ train documents with 1 - q of each one's
    tokens permuted (the same compute as the filtering runs)."""
    tokens = setup.tokenizer.encode_batch(setup.hq_train["text"].to_list())
    parts = []
    for q in cfg.qualities:
        rng = np.random.default_rng([seed, round(q * 1000)])
        parts.append(_run(cfg, setup, "synthetic", q, [permute_fraction(ids, q, rng) for ids in tokens], seed))
    return _collect(parts)


def concat_runs(*runs: Runs) -> Runs:
    """The runs of several settings in one Runs."""
    return Runs(*(pl.concat([getattr(r, f.name) for r in runs]) for f in dataclasses.fields(Runs)))
