"""Downstream multiple-choice tasks, scored by likelihood: facts QA and definition matching.

Questions come in groups of k with k distinct answers; each question's choices are the
group's answers, so the k x k matrix S[i, j] = log p(answer j | prompt i) scores every
question of the group at once (one forward pass per pair). Facts QA picks argmax_j S[i, j],
as lm-evaluation-harness does. Definition matching compares definitions of very different
prior likelihood, so it is calibrated first: each definition's score is taken relative to
its mean over the group's words, S[i, j] - mean_i S[i, j] (a pointwise mutual information),
and only how much the word raises the likelihood of its definition counts. Chance is 1/k
either way.

Well-formedness is a set of minimal pairs, as in BLiMP: an intact held-out HQ document (of
the HQ set's typical kind, never trained on) against a copy with two adjacent words swapped,
one with a boilerplate line inserted and one cut short; the model is right when the intact
text has the lowest mean loss per token (length-normalised, like lm-evaluation-harness's
acc_norm, since the copies differ in length). Like the paper's benchmarks it rewards fluent,
clean text of the kind the HQ set is mostly made of.

Facts QA asks the KB's facts in the phrasing of the facts documents (a city's country, a
country's capital, an element's symbol) about entities the pool documents; definition
matching asks for the WordNet definition of a word whose dictionary entry is in the pool.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl

from atelier import data
from atelier.data.facts.documents import _the
from atelier.studies.quality_filtering.variants import BOILERPLATE, truncate

TASKS = ("facts_qa", "definitions", "well_formed")


def choice_accuracy(S: np.ndarray, calibrate: bool) -> np.ndarray:
    """Per question, whether its own answer (the diagonal) wins: S is float[G, k, k] of
    log p(answer j | prompt i); returns bool[G, k]."""
    if calibrate:
        S = S - S.mean(axis=1, keepdims=True)  # each answer relative to its mean over the prompts
    return S.argmax(axis=2) == np.arange(S.shape[1])


def _groups(items: pl.DataFrame, k: int, n_groups: int, rng: np.random.Generator) -> pl.DataFrame:
    """n_groups groups of k items (prompt, answer) with k distinct answers each (fewer groups if
    the items run out): items in a seeded order, each joining the first open group that lacks
    its answer."""
    groups: list[list[dict]] = []
    for row in items[rng.permutation(items.height)].iter_rows(named=True):
        open_group = next((g for g in groups if len(g) < k and all(m["answer"] != row["answer"] for m in g)), None)
        if open_group is not None:
            open_group.append(row)
        elif len(groups) < n_groups:
            groups.append([row])
    rows = [{**m, "group": g} for g, members in enumerate(x for x in groups if len(x) == k) for m in members]
    return pl.DataFrame(rows, schema={**items.schema, "group": pl.Int64})


def facts_questions(pool: pl.DataFrame, k: int, n_groups: int, seed: int) -> pl.DataFrame:
    """Facts QA about the entities with a facts document in the pool: task, relation, group,
    prompt, answer (with its leading space), k per group, n_groups per relation."""
    subjects = pool.filter(pl.col("domain") == "facts-documents")["id"].str.split(":").list.get(1).unique()
    kb = data.facts_kb()
    cities = kb["cities"].filter(pl.col("name").is_in(subjects.implode()) & pl.col("country").is_not_null())
    countries = kb["countries"].filter(pl.col("name").is_in(subjects.implode()) & pl.col("capital").is_not_null())
    elements = kb["elements"].filter(pl.col("name").is_in(subjects.implode()))
    relations = {
        "city_country": [(f"{r['name']} is a city in", f" {_the(r['country'])}.") for r in cities.iter_rows(named=True)],
        "country_capital": [(f"The capital of {_the(r['name'])} is", f" {r['capital']}.")
                            for r in countries.iter_rows(named=True)],
        "element_symbol": [(f"{r['name']} is the chemical element with symbol", f" {r['symbol']}")
                           for r in elements.iter_rows(named=True)],
    }  # fmt: skip
    rng = np.random.default_rng(seed)
    parts = []
    for relation, pairs in relations.items():
        items = pl.DataFrame(pairs, schema=["prompt", "answer"], orient="row")
        parts.append(_groups(items, k, n_groups, rng).with_columns(relation=pl.lit(relation)))
    return _finish(pl.concat(parts), "facts_qa")


def definition_questions(pool: pl.DataFrame, k: int, n_groups: int, seed: int) -> pl.DataFrame:
    """Definition matching over the WordNet entries in the pool: groups of k words, each to be
    matched with its own definition."""
    ids = pool.filter(pl.col("domain") == "wordnet-definitions")["id"].unique().implode()
    entries = data.load("wordnet-definitions", "train").filter(pl.col("id").is_in(ids)).sort("id")
    items = entries.select(prompt=pl.col("word") + ":", answer=" " + pl.col("text")).unique("prompt", maintain_order=True)
    groups = _groups(items, k, n_groups, np.random.default_rng(seed))
    return _finish(groups.with_columns(relation=pl.lit("word_definition")), "definitions")


CORRUPTIONS = ("swapped", "boilerplate", "truncated")


def corrupt(text: str, kind: str, rng: np.random.Generator) -> str:
    """text (>= 3 words, whitespace-normalised) with one defect: two adjacent distinct words
    swapped, a boilerplate line inserted between two words, or cut at 30-70% of its length."""
    words = text.split()
    if kind == "swapped":
        i = int(rng.choice([i for i in range(len(words) - 1) if words[i] != words[i + 1]]))
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)
    if kind == "boilerplate":
        i = int(rng.integers(1, len(words)))
        return " ".join(words[:i]) + "\n" + BOILERPLATE[rng.integers(len(BOILERPLATE))] + "\n" + " ".join(words[i:])
    if kind == "truncated":
        return truncate(" ".join(words), rng)
    raise ValueError(f"unknown corruption {kind!r}; valid: {', '.join(CORRUPTIONS)}")


def well_formed_questions(texts: pl.Series, n_groups: int, seed: int) -> pl.DataFrame:
    """Minimal-pair groups: task, relation, group, choice, text, correct. Group g is one text
    with >= 3 words and two distinct neighbours (choice 0, the correct one, whitespace
    normalised) and one copy per corruption (CORRUPTIONS, choices 1..); n_groups groups,
    fewer if the texts run out."""
    rng = np.random.default_rng(seed)
    texts = [t for t in texts.gather(rng.permutation(texts.len()))
             if len(t.split()) >= 3 and any(a != b for a, b in itertools.pairwise(t.split()))][:n_groups]
    rows = [(g, c, text, c == 0)
            for g, original in enumerate(texts)
            for c, text in enumerate([" ".join(original.split()), *(corrupt(original, kind, rng) for kind in CORRUPTIONS)])]
    frame = pl.DataFrame(rows, schema={"group": pl.Int64, "choice": pl.Int64, "text": pl.String, "correct": pl.Boolean},
                         orient="row")
    return frame.select(task=pl.lit("well_formed"), relation=pl.lit("intact_vs_corrupted"), group="group",
                        choice="choice", text="text", correct="correct")


def _finish(frame: pl.DataFrame, task: str) -> pl.DataFrame:
    """Groups numbered across relations, in a stable column order."""
    frame = frame.with_columns(task=pl.lit(task))
    group = frame.select(pl.struct("relation", "group").rank("dense") - 1)
    return frame.with_columns(group=group.to_series()).select("task", "relation", "group", "prompt", "answer")
