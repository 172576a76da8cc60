"""The study's experiments, each one call from the notebook.

prepare: corpus + reference SLM (the plain LM, rule "none") + bigger model + per-token losses + the
cascade's helper (the bigger model, or SmolLM2).
loss_by_category / selector_precision_recall: what the reference losses and spaCy say.
train_rules + cascade_scores: an SLM per (rule, budget), generated in a cascade and fact-checked.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import torch

from atelier.pretrained import load as load_pretrained
from atelier.studies.lacy import cascade, factscore, helpers, labels, models
from atelier.studies.lacy.config import Config
from atelier.studies.lacy.corpus import Corpus, build_corpus


@dataclasses.dataclass
class Prepared:
    corpus: Corpus
    reference: torch.nn.Module  # the plain small LM (rule "none"), whose losses label tokens
    big: torch.nn.Module  # the bigger atelier model: Rho-1's reference (and the helper when cfg.helper == "atelier")
    helper: object  # texts -> next words: helpers.CorpusHelper or helpers.SmolHelper
    loss_ref: torch.Tensor  # [N, T]
    wrong_ref: torch.Tensor  # [N, T]: the reference SLM's argmax misses the target
    loss_big: torch.Tensor  # [N, T]


def prepare(cfg: Config, seed: int) -> Prepared:
    corpus = build_corpus(cfg.n_cities, cfg.variants, cfg.heldout_fraction, cfg.n_wordnet, cfg.vocab_size,
                          cfg.seq_len, seed, cfg.entity_fraction)
    plain = labels.call_targets(corpus.tokens, corpus.valid, torch.zeros_like(corpus.valid), corpus.tokenizer.call_id)
    V = corpus.tokenizer.vocab_size
    ref = models.train_lm(models.make_lm(V, cfg.slm_width, cfg.slm_depth, cfg.seq_len, seed), corpus.tokens, plain,
                          cfg.slm_steps, cfg.batch_size, cfg.lr, seed, "slm-none")
    big = models.train_lm(models.make_lm(V, cfg.big_width, cfg.big_depth, cfg.seq_len, seed), corpus.tokens, plain,
                          cfg.big_steps, cfg.batch_size, cfg.lr / 2, seed, "big")  # wider: half the LR
    loss_ref, wrong_ref = models.token_losses(ref, corpus.tokens, corpus.valid)
    loss_big, _ = models.token_losses(big, corpus.tokens, corpus.valid)
    return Prepared(corpus, ref, big, make_helper(cfg, big, corpus), loss_ref, wrong_ref, loss_big)


def make_helper(cfg: Config, big: torch.nn.Module, corpus: Corpus):
    """The cascade's helper named by cfg.helper."""
    if cfg.helper == "smollm2":
        return helpers.SmolHelper(load_pretrained("smollm2-135m-instruct"), cfg.max_span)
    return helpers.CorpusHelper(big, corpus.tokenizer, cfg.max_span)


def token_frame(p: Prepared) -> pl.DataFrame:
    """One row per real training target: doc, position, token text, category, losses, masks."""
    c = p.corpus
    doc, pos = c.valid.nonzero(as_tuple=True)
    ids = c.tokens[:, 1:][doc, pos]
    categories = [c.pos[d][t] for d, t in zip(doc.tolist(), pos.tolist())]
    return pl.DataFrame({
        "doc": doc.numpy(), "position": pos.numpy(), "token": c.tokenizer.decode_batch([[i] for i in ids.tolist()]),
        "category": categories, "loss_ref": p.loss_ref[doc, pos].numpy(), "loss_big": p.loss_big[doc, pos].numpy(),
        "factual": c.factual[doc, pos].numpy(), "fact_value": c.fact_value[doc, pos].numpy(),
        "wrong": p.wrong_ref[doc, pos].numpy(),
    })  # fmt: skip


def loss_by_category(tokens: pl.DataFrame, q: float) -> pl.DataFrame:
    """Mean reference loss per spaCy category, and each category's share of the top-q% losses."""
    cut = tokens["loss_ref"].quantile(1 - q)
    return (
        tokens.with_columns(top=pl.col("loss_ref") >= cut)
        .group_by("category")
        .agg(n=pl.len(), mean_loss=pl.col("loss_ref").mean(), in_top=pl.col("top").sum(),
             factual=pl.col("factual").mean(), fact_value=pl.col("fact_value").mean())
        .with_columns(share_of_top=pl.col("in_top") / pl.col("in_top").sum())
        .filter(pl.col("n") >= 20)
        .sort("mean_loss", descending=True)
    )


def selector_precision_recall(p: Prepared, quantiles: tuple[float, ...]) -> pl.DataFrame:
    """Precision / recall of "loss in top q%" and "loss in top q% AND spaCy-factual" at finding
    factual errors of the reference SLM (argmax wrong on a token of a stated fact value)."""
    c = p.corpus
    positive = p.wrong_ref & c.fact_value
    rows = []
    for q in quantiles:
        top = labels.top_fraction(p.loss_ref, c.valid, q)
        for selector, selected in (("loss top q", top), ("loss top q AND factual", top & c.factual)):
            precision, recall = labels.precision_recall(selected, positive)
            rows.append({"q": q, "selector": selector, "precision": precision, "recall": recall,
                         "selected_fraction": float(selected.sum() / c.valid.sum())})
    return pl.DataFrame(rows)


def prompts(cfg: Config, docs: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Prompt = a document's text up to its first fact value (e.g. "Lyon is a city in")."""
    sample = docs.sample(min(cfg.n_prompts, len(docs)), seed=seed)
    first = [text[: text.find(facts[0]["value"])].rstrip() for text, facts in zip(sample["text"], sample["facts"])]
    return sample.with_columns(prompt=pl.Series(first)).filter(pl.col("prompt").str.len_chars() > 0)


def train_rules(cfg: Config, p: Prepared, seed: int) -> dict[tuple[str, float], torch.nn.Module]:
    """One small LM per (rule, budget); rule "none" is the reference SLM itself (budget 0)."""
    c = p.corpus
    trained = {("none", 0.0): p.reference}
    for rule in cfg.rules:
        for budget in cfg.budgets if rule != "none" else ():
            mask = labels.call_labels(rule, budget, p.loss_ref, p.loss_big, c.valid, c.factual)
            targets = labels.call_targets(c.tokens, c.valid, mask, c.tokenizer.call_id)
            model = models.make_lm(c.tokenizer.vocab_size, cfg.slm_width, cfg.slm_depth, cfg.seq_len, seed)
            trained[rule, budget] = models.train_lm(model, c.tokens, targets, cfg.slm_steps, cfg.batch_size, cfg.lr,
                                                    seed, f"slm-{rule}-{budget}")
    return trained


def cascade_scores(cfg: Config, p: Prepared, trained: dict, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per-fact frame, per-generation frame) of every SLM in a cascade with the helper, on
    prompts about seen and held-out entities."""
    sets = pl.concat([prompts(cfg, p.corpus.documents, seed).with_columns(split=pl.lit("seen")),
                      prompts(cfg, p.corpus.heldout, seed).with_columns(split=pl.lit("held-out"))])
    facts, gens = [], []
    for (rule, budget), model in trained.items():
        outs = cascade.generate(model, p.helper, p.corpus.tokenizer, sets["prompt"].to_list(), cfg.max_new_tokens)
        for row, g in zip(sets.iter_rows(named=True), outs):
            scored = factscore.score_generation(g.prompt, g.text, g.from_big, row["subject"], row["kind"])
            key = {"rule": rule, "budget": budget, "split": row["split"]}
            gens.append({**key, "prompt": g.prompt, "text": g.text, "calls": g.calls, "steps": g.steps,
                         "delegated": "".join("^" if f else " " for f in g.from_big), "n_facts": len(scored)})
            facts.extend({**key, **f} for f in scored)
    fact_schema = {"rule": pl.String, "budget": pl.Float64, "split": pl.String, "subject": pl.String,
                   "relation": pl.String, "value": pl.String, "supported": pl.Boolean, "delegated": pl.Boolean}
    return pl.DataFrame(facts, schema=fact_schema), pl.DataFrame(gens)


def summarise(facts: pl.DataFrame, gens: pl.DataFrame) -> pl.DataFrame:
    """Per (rule, budget): CALL rate (share of the small LM's predictions that are <call>), FactScore
    (supported share of checkable facts), fact leakage (share of checkable facts that are false and
    not delegated)."""
    keys = ["rule", "budget"]
    rate = gens.group_by(keys).agg(call_rate=pl.col("calls").sum() / pl.col("steps").sum().clip(1),
                                   facts_per_generation=pl.col("n_facts").mean())
    checked = facts.filter(pl.col("supported").is_not_null())
    score = checked.group_by(keys).agg(
        factscore=pl.col("supported").mean(), leakage=(~pl.col("supported") & ~pl.col("delegated")).mean(),
        n_checked=pl.len())
    return rate.join(score, on=keys, how="left").fill_null(0.0).sort(keys)


def at_matched_rate(summary: pl.DataFrame, rules: tuple[str, ...]) -> tuple[float, pl.DataFrame]:
    """(r*, per-rule FactScore and leakage linearly interpolated at the CALL rate r*): r* is the
    middle of the CALL-rate range that every rule's budgets cover."""
    curves = {r: summary.filter(pl.col("rule") == r).sort("call_rate") for r in rules}
    low = max(float(c["call_rate"].min()) for c in curves.values())
    high = min(float(c["call_rate"].max()) for c in curves.values())
    r_star = (low + high) / 2
    rows = [{"rule": r, "call_rate": r_star,
             "factscore": float(np.interp(r_star, c["call_rate"], c["factscore"])),
             "leakage": float(np.interp(r_star, c["call_rate"], c["leakage"])),
             "range_low": low, "range_high": high} for r, c in curves.items()]
    return r_star, pl.DataFrame(rows)
