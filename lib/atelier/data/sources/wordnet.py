"""WordNet 3.0 glosses from Debian's wordnet-base: definitions and quoted usage examples.

A synset line of /usr/share/wordnet/data.<pos> reads
    00001740 02 r 01 a_cappella 0 000 | without musical accompaniment; "they performed a cappella"
i.e. offset, lexicographer file, synset type, word count (hex), (word, lex_id) pairs, pointers,
then "|" and the gloss. The gloss is definition parts and quoted examples separated by ";".
One synset gives one definition document (its definition parts joined) and one example
document per quoted example.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from atelier.data.sources import files_fingerprint, missing_paths, require_paths

ROOT = Path("/usr/share/wordnet")
POS_FILES = {"noun": "data.noun", "verb": "data.verb", "adj": "data.adj", "adv": "data.adv"}
POS_LETTERS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}  # WordNet's own, as in synset ids
APT_PACKAGE = "wordnet-base"
QUOTED = re.compile(r'"([^"]*)"')
ADJ_MARKER = re.compile(r"\((a|p|ip)\)$")  # adjective position markers: dark(p)


def _paths() -> list[Path]:
    return [ROOT / name for name in POS_FILES.values()]


def fingerprint() -> list:
    return [2, files_fingerprint(_paths())]


def unavailable() -> str | None:
    return missing_paths(_paths(), APT_PACKAGE)


def split_gloss(gloss: str) -> tuple[str, list[str]]:
    """(definition, examples) of a gloss: quoted parts are examples, the rest the definition.

    A part with an unbalanced quote (a few glosses miss one) is an example too; leftovers of
    quotes such as attributions ("- Shakespeare") are dropped.
    """
    examples = [q.strip() for q in QUOTED.findall(gloss)]
    definition = []
    for part in QUOTED.sub("", gloss).split(";"):
        part = part.strip()
        if '"' in part:
            examples.append(part.replace('"', "").strip())
        elif re.search(r"\w", part) and not part.startswith("-"):
            definition.append(part)
    return "; ".join(definition), [e for e in examples if e]


def parse_synsets() -> pl.DataFrame:
    """One row per synset: synset id, pos, lemmas (list), definition, examples (list)."""
    require_paths(_paths(), APT_PACKAGE)
    rows = []
    for pos, name in POS_FILES.items():
        with open(ROOT / name, encoding="utf-8") as f:
            for line in f:
                if line.startswith("  "):  # licence header
                    continue
                head, _, gloss = line.partition(" | ")
                fields = head.split()
                n_words = int(fields[3], 16)
                lemmas = [ADJ_MARKER.sub("", w).replace("_", " ") for w in fields[4 : 4 + 2 * n_words : 2]]
                definition, examples = split_gloss(gloss.strip())
                rows.append((f"{POS_LETTERS[pos]}{fields[0]}", pos, lemmas, definition, examples))
    return pl.DataFrame(rows, schema=["synset", "pos", "lemmas", "definition", "examples"], orient="row")


def definitions() -> pl.DataFrame:
    """Definition documents: id, text (the definition), word (first lemma), lemmas, pos."""
    synsets = parse_synsets().filter(pl.col("definition") != "")
    return synsets.select(
        pl.col("synset").alias("id"),
        pl.col("definition").alias("text"),
        pl.col("lemmas").list.first().alias("word"),
        "lemmas",
        "pos",
    )


def examples() -> pl.DataFrame:
    """Usage-example documents: id, text (the example sentence), word, synset, pos."""
    synsets = parse_synsets().select("synset", "pos", pl.col("lemmas").list.first().alias("word"), "examples")
    exploded = synsets.with_columns(pl.int_ranges(pl.col("examples").list.len()).alias("k")).explode("examples", "k")
    return exploded.drop_nulls("examples").select(
        (pl.col("synset") + "-" + pl.col("k").cast(pl.String)).alias("id"),
        pl.col("examples").alias("text"),
        "word",
        "synset",
        "pos",
    )
