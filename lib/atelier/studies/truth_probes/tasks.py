"""The question-answering tasks: five domains with automatically checkable answers.

Each task yields rows (task, question, prefill, gold, accept, grader). ``prefill`` starts the
assistant's answer ("Lyon is in"), which keeps SmolLM2's answers short and on topic.
``grader`` says how ``grade`` checks an answer: ``mention`` (an accepted alias appears),
``first_word`` (the first word is the symbol) or ``number`` (the first number is ``gold``).
Difficulty is set so the 135M model gets a useful share of each task both right and wrong:
cities are drawn from the ``city_pool`` most populous (less known ones are harder), sums
have two-digit operands, and half the number pairs share their integer part (9.11 vs 9.9).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import polars as pl

from atelier.studies.truth_probes import grading, kb

COLUMNS = {"task": pl.String, "question": pl.String, "prefill": pl.String, "gold": pl.String,
           "accept": pl.List(pl.String), "grader": pl.String}


def row(task, question, prefill, gold, accept=(), grader="mention") -> dict:
    return {"task": task, "question": question, "prefill": prefill, "gold": str(gold),
            "accept": list(dict.fromkeys(accept or ())) or [str(gold)], "grader": grader}


def city_country(n: int, rng: np.random.Generator, city_pool: int = 2000) -> list[dict]:
    """In which country is a city? Names shared by cities of different countries are left out."""
    cities = kb.cities()
    unique = cities.group_by("name").agg(pl.col("iso2").n_unique().alias("k")).filter(pl.col("k") == 1)
    pool = cities.join(unique, on="name").sort("population", "name", descending=True).head(city_pool)
    aliases = dict(kb.aliases().select("iso2", "aliases").iter_rows())
    picks = pool[rng.choice(len(pool), size=min(n, len(pool)), replace=False)]
    return [row("city_country", f"In which country is the city of {c['name']}?", f"{c['name']} is in",
                c["country"], [c["country"], *aliases.get(c["iso2"], [])]) for c in picks.iter_rows(named=True)]


def country_capital(n: int, rng: np.random.Generator, min_population: int = 100_000) -> list[dict]:
    """What is the capital of a country (countries of at least ``min_population``)?"""
    pool = kb.countries().filter(pl.col("population") >= min_population).sort("iso2")
    picks = pool[rng.choice(len(pool), size=min(n, len(pool)), replace=False)]
    return [row("country_capital", f"What is the capital of {c['name']}?", f"The capital of {c['name']} is",
                c["capital"], [c["capital"], *(c["capital_aliases"] or [])]) for c in picks.iter_rows(named=True)]


def element_symbol(n: int, rng: np.random.Generator) -> list[dict]:
    """Element name -> symbol and symbol -> name (both directions of the same fact)."""
    rows = []
    for e in kb.elements().iter_rows(named=True):
        rows.append(row("element_symbol", f"What is the chemical symbol of {e['name']}?",
                        f"The chemical symbol of {e['name']} is", e["symbol"], grader="first_word"))
        rows.append(row("element_symbol", f"Which chemical element has the symbol {e['symbol']}?",
                        f"The element with the symbol {e['symbol']} is", e["name"]))
    return [rows[i] for i in rng.choice(len(rows), size=min(n, len(rows)), replace=False)]


def number_compare(n: int, rng: np.random.Generator) -> list[dict]:
    """Which of two decimals is larger? Half the pairs share the integer part."""
    rows, seen = [], set()
    while len(rows) < n:
        a = round(float(rng.uniform(0, 10)), int(rng.integers(1, 3)))
        b = round(float(rng.uniform(0, 10)), int(rng.integers(1, 3)))
        if rng.random() < 0.5:
            b = int(a) + round(b % 1, 2)
        b = round(b, 2)
        if a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        rows.append(row("number_compare", f"Which number is larger: {a:g} or {b:g}?", "The larger number is",
                        f"{max(a, b):g}", grader="number"))
    return rows


def addition(n: int, rng: np.random.Generator) -> list[dict]:
    """Sums of two two-digit numbers."""
    rows, seen = [], set()
    while len(rows) < n:
        a, b = (int(x) for x in rng.integers(10, 100, size=2))
        if (a, b) in seen:
            continue
        seen.add((a, b))
        rows.append(row("addition", f"What is {a} + {b}?", f"{a} + {b} =", a + b, grader="number"))
    return rows


TASKS: dict[str, Callable[[int, np.random.Generator], list[dict]]] = {
    "city_country": city_country, "country_capital": country_capital, "element_symbol": element_symbol,
    "number_compare": number_compare, "addition": addition,
}


def build_questions(tasks: tuple[str, ...], n_per_task: int, seed: int) -> pl.DataFrame:
    """Up to ``n_per_task`` questions of each task (fewer where the KB has fewer facts)."""
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise ValueError(f"unknown tasks {unknown}; valid tasks: {', '.join(TASKS)}")
    rows = []
    for i, name in enumerate(tasks):
        rows += TASKS[name](n_per_task, np.random.default_rng([seed, i]))
    return pl.DataFrame(rows, schema=COLUMNS)


def grade(questions: pl.DataFrame, answers: list[str]) -> list[bool]:
    """Whether each answer (first line only) is right, by its row's grader."""
    checks = {
        "mention": lambda a, r: grading.mentions(a, r["accept"]),
        "first_word": lambda a, r: grading.first_word_is(a, r["gold"]),
        "number": lambda a, r: grading.number_is(a, float(r["gold"])),
    }
    return [checks[r["grader"]](grading.first_line(a), r) for a, r in zip(answers, questions.iter_rows(named=True))]
