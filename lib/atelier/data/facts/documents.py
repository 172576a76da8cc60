"""Encyclopedic paragraphs generated from the facts KB, each listing the atomic facts it states.

A document describes one entity (a city, a country or an element): an opening sentence,
then its other fact sentences in a random order with filler sentences (statements that
carry no KB fact) in between. Every fact sentence is drawn from several phrasings, and
numbers are written exactly ("2,138,551") or rounded ("2.1 million"), so one entity yields
several different documents. Each document carries `facts`: the (subject, relation, value)
triples it states, where value is the exact text written in the document, so a grader can
find it and check_fact can verify it.

Only cities whose name no other KB city shares are described, so every subject is unambiguous.
"""

from __future__ import annotations

import random
from typing import Callable

import polars as pl

from atelier.data.cache import stable_hash
from atelier.data.facts import kb
from atelier.data.facts.kb import facts_kb

VERSION = 2  # bump when the templates change: part of the cache key of the documents
Sentence = tuple[list[tuple[str, str]], str]  # ([(relation, value as written)], text)

FILLERS = {
    "city": [
        "Its streets mix older buildings with newer ones.",
        "Local markets are a familiar part of daily life there.",
        "Visitors often remark on the character of its neighbourhoods.",
        "Like many cities, it has grown and changed over the years.",
        "Public squares serve as meeting points for residents.",
    ],
    "country": [
        "Its culture reflects a long and varied history.",
        "Travellers describe a wide range of landscapes there.",
        "Its cuisine draws on regional traditions.",
        "Music and festivals play a part in public life.",
        "Its people follow many different trades and professions.",
    ],
    "element": [
        "Chemists have studied its compounds in detail.",
        "Its properties are described in many textbooks.",
        "Laboratories handle it according to established safety rules.",
        "Its place in the periodic table explains much of its behaviour.",
        "Students often meet it in introductory chemistry courses.",
    ],
}


DEFINITE_WORDS = {"United", "Republic", "Islands", "Kingdom", "Emirates", "States", "Federation"}
DEFINITE_NAMES = {"Netherlands", "Philippines", "Maldives", "Comoros", "Seychelles", "Gambia", "Bahamas", "Americas"}


def _number(value: float, rng: random.Random) -> str:
    """An integer written exactly with thousands separators, or rounded to millions."""
    if value >= 1_000_000 and rng.random() < 0.5:
        return f"{value / 1e6:.1f} million"
    return f"{round(value):,}"


def _coordinate(value: float, positive: str, negative: str) -> str:
    return f"{abs(value):.2f}° {positive if value >= 0 else negative}"


def _the(country: str, start: bool = False) -> str:
    """A country or region name as used in a sentence: "the United States", "The Netherlands"."""
    words = set(country.split())
    needs = bool(words & DEFINITE_WORDS) or country in DEFINITE_NAMES
    return f"{'The' if start else 'the'} {country}" if needs and not country.startswith("The ") else country


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _city(row: dict, rng: random.Random) -> list[Sentence]:
    s, country = row["name"], _the(row["country"])
    lat, lon = _coordinate(row["latitude"], "N", "S"), _coordinate(row["longitude"], "E", "W")
    pop = _number(row["population"], rng)
    say = rng.choice
    sentences = [
        ([("country", row["country"])], say([f"{s} is a city in {country}.", f"The city of {s} lies in {country}."])),
        ([("population", pop)], say([f"It has a population of {pop}.", f"About {pop} people live in {s}."])),
        (
            [("latitude", lat), ("longitude", lon)],
            say([f"Its coordinates are {lat}, {lon}.", f"{s} lies at latitude {lat} and longitude {lon}."]),
        ),
    ]
    if region := row["admin_region"]:
        text = say([f"It is in the state of {region}.", f"{s} belongs to the state of {region}."])
        sentences.append(([("admin_region", region)], text))
    return sentences


def _country(row: dict, rng: random.Random) -> list[Sentence]:
    s, start, subregion, region = _the(row["name"]), _the(row["name"], start=True), row["subregion"], row["region"]
    say = rng.choice
    opening = f"{start} is a country in {subregion}, part of {_the(region)}."
    sentences = [([("subregion", subregion), ("region", region)], opening)]
    if c := row["capital"]:
        text = say([f"Its capital is {c}.", f"The capital of {s} is {c}.", f"{c} serves as the capital of {s}."])
        sentences.append(([("capital", c)], text))
    if row["population"]:
        pop = _number(row["population"], rng)
        sentences.append(([("population", pop)], say([f"It has a population of {pop}.", f"About {pop} people live in {s}."])))
    if row["area"]:
        area = f"{round(row['area']):,}"
        text = say([f"It covers {area} square kilometres.", f"{start} has an area of {area} km²."])
        sentences.append(([("area", area)], text))
    if row["languages"]:
        langs = row["languages"][:3]
        verb = "is" if len(langs) == 1 else "are"
        text = say([f"Languages spoken there include {_join(langs)}.", f"{_join(langs)} {verb} spoken in {s}."])
        sentences.append(([("language", lang) for lang in langs], text))
    if row["borders"]:
        borders = row["borders"][:5]
        listed = _join([_the(b) for b in borders])
        text = say([f"{start} shares borders with {listed}.", f"It borders {listed}."])
        sentences.append(([("borders", b) for b in borders], text))
    return sentences


def _element(row: dict, rng: random.Random) -> list[Sentence]:
    s, sym, z = row["name"], row["symbol"], str(row["atomic_number"])
    say = rng.choice
    opening = say([
        f"{s} is the chemical element with symbol {sym} and atomic number {z}.",
        f"{s} ({sym}) is a chemical element with atomic number {z}.",
    ])  # fmt: skip
    sentences = [([("symbol", sym), ("atomic_number", z)], opening)]
    period = str(row["period"])
    if row["group"] is not None:
        group = str(row["group"])
        text = say([f"It sits in group {group} and period {period} of the periodic table.",
                    f"{s} is found in period {period}, group {group}."])  # fmt: skip
        sentences.append(([("group", group), ("period", period)], text))
    else:
        sentences.append(([("period", period)], f"It sits in period {period} of the periodic table."))
    block, series = row["block"], row["series"]
    sentences.append(([("block", block), ("series", series)], f"It is a {block}-block element, one of the {series}."))
    if phase := row["phase"]:
        text = say([f"At room temperature it is a {phase}.", f"{s} is a {phase} at room temperature."])
        sentences.append(([("phase", phase)], text))
    if row["discoverers"] and row["discovery_year"] is not None:
        names, year = row["discoverers"], str(row["discovery_year"])
        text = say([f"It was discovered by {_join(names)} in {year}.", f"{_join(names)} discovered {s} in {year}."])
        sentences.append(([("discovered_by", n) for n in names] + [("discovery_year", year)], text))
    return sentences


WRITERS: dict[str, Callable] = {"city": _city, "country": _country, "element": _element}


def write_document(
    kind: str, row: dict, rng: random.Random, n_fillers: tuple[int, int] = (1, 3)
) -> tuple[str, list[dict]]:
    """(text, facts) of one document about `row` (a KB row of that kind): the first sentence
    opens it, the others follow in a random order with fillers among them."""
    sentences = WRITERS[kind](row, rng)
    opening, body = sentences[0][1], [text for _, text in sentences[1:]]
    rng.shuffle(body)
    for filler in rng.sample(FILLERS[kind], rng.randint(*n_fillers)):
        body.insert(rng.randint(0, len(body)), filler)
    facts = [{"subject": row["name"], "relation": r, "value": v} for fs, _ in sentences for r, v in fs]
    text = " ".join([opening, *body]).replace("..", ".")  # a value ending in "." ends its sentence
    return text, facts


def _entities(n_cities: int) -> list[tuple[str, dict]]:
    kb = facts_kb()
    cities = kb["cities"].filter(pl.col("name").is_unique() & pl.col("country").is_not_null()).head(n_cities)
    countries = kb["countries"].filter(pl.col("region").is_not_null() & pl.col("subregion").is_not_null())
    return [
        *(("city", row) for row in cities.iter_rows(named=True)),
        *(("country", row) for row in countries.iter_rows(named=True)),
        *(("element", row) for row in kb["elements"].iter_rows(named=True)),
    ]


def facts_documents(n_cities: int = 3000, variants: int = 3, seed: int = 0) -> pl.DataFrame:
    """Documents about the n_cities most populous unambiguous cities, every country and every
    element, `variants` phrasings each: id, text, kind, subject, facts (list of structs)."""
    rows = []
    for kind, row in _entities(n_cities):
        for variant in range(variants):
            doc_id = f"{kind}:{row['name']}:{variant}"
            rng = random.Random(stable_hash([seed, doc_id]))
            text, facts = write_document(kind, row, rng)
            rows.append({"id": doc_id, "text": text, "kind": kind, "subject": row["name"], "facts": facts})
    fact_type = pl.List(pl.Struct({"subject": pl.String, "relation": pl.String, "value": pl.String}))
    schema = {"id": pl.String, "text": pl.String, "kind": pl.String, "subject": pl.String, "facts": fact_type}
    return pl.DataFrame(rows, schema=schema)


def fingerprint() -> list:
    return ["facts-documents", VERSION, kb.fingerprint()]


def unavailable() -> str | None:
    return kb.unavailable()
