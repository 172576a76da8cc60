"""The pretraining pool and the high-quality (HQ) set, built from atelier's real text domains.

The pool imitates a web crawl: documents of several domains in fixed shares of characters,
a fraction of them replaced by a lower-quality variant (variants.py). Long documents (man
pages, Python files) are cut to their first ``max_chars`` characters at a line break, so that
one document is a page of a size comparable to the others. WordNet definitions are written as
dictionary entries, "word: definition", so that a model can learn which word they define.

The HQ set is clean documents of a few of the pool's domains in fixed shares: a typical
majority kind and an atypical minority, as a real HQ set (instructions, explanations, some
code) is not one kind of text. Its train part (what the quality classifier learns from, and
the data of the synthetic-quality control) is disjoint from the pool; its held-out part comes
from the domains' val and test splits.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from atelier import data
from atelier.data.splits import unit_hash
from atelier.studies.quality_filtering.variants import VARIANTS, make_variant

LQ_VARIANTS = VARIANTS[1:]


def cap(text: str, max_chars: int) -> str:
    """text cut to at most max_chars characters, at its last line break before the cut if any."""
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars)
    return text[: cut if cut > 0 else max_chars]


def render(domain: str, docs: pl.DataFrame, max_chars: int) -> pl.DataFrame:
    """id, text of a domain's documents as they appear in the pool (see the module docstring)."""
    texts = docs["text"]
    if domain == "wordnet-definitions":
        texts = docs["word"] + ": " + texts
    capped = pl.Series("text", [cap(t, max_chars) for t in texts], dtype=pl.String)
    return docs.select("id").with_columns(capped).filter(pl.col("text").str.strip_chars() != "")


def documents(domain: str, split: str, max_chars: int) -> pl.DataFrame:
    """Rendered documents (id, text) of one domain and split, in a seed-free order (by id hash)."""
    frame = render(domain, data.load(domain, split), max_chars)
    return frame[np.argsort(unit_hash(frame["id"]))]


def hq_split(shares: dict[str, float], train_docs: int, eval_docs: int, max_chars: int,
             seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(HQ train, HQ held-out, spare held-out), each with a domain column.

    Domain d gives about shares[d] of the train_docs HQ train documents (its first train
    documents) and of the eval_docs held-out ones (a seeded sample of its val + test
    documents); its other val + test documents are spare, for the downstream tasks.
    """
    rng = np.random.default_rng(seed)
    total = sum(shares.values())
    train, held_out, spare = [], [], []
    for domain, share in shares.items():
        train.append(documents(domain, "train", max_chars).head(round(train_docs * share / total)))
        unseen = pl.concat([documents(domain, "val", max_chars), documents(domain, "test", max_chars)])
        unseen = unseen[rng.permutation(unseen.height)]
        n_eval = round(eval_docs * share / total)
        held_out.append(unseen.head(n_eval))
        spare.append(unseen.slice(n_eval))
    return tuple(pl.concat([part.with_columns(domain=pl.lit(d)) for part, d in zip(parts, shares)])
                 for parts in (train, held_out, spare))


def build_pool(
    weights: dict[str, float],
    pool_chars: int,
    lq_fraction: float,
    max_chars: int,
    seed: int,
    exclude: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The pool: domain, id, variant, text; domain d holds about weights[d] of pool_chars.

    Each domain's train documents are taken in a seeded order until its share of characters
    is filled (clean characters, before variants); each document then becomes a
    lower-quality variant with probability lq_fraction (boilerplate, truncated or shuffled,
    equally likely). Documents whose id is in ``exclude`` (the HQ train set) are left out.
    """
    if not 0 <= lq_fraction <= 1:
        raise ValueError(f"lq_fraction must be in [0, 1], got {lq_fraction}")
    rng = np.random.default_rng(seed)
    total = sum(weights.values())
    parts = []
    for domain, weight in weights.items():
        docs = documents(domain, "train", max_chars)
        if exclude is not None:
            docs = docs.filter(~pl.col("id").is_in(exclude.filter(pl.col("domain") == domain)["id"].implode()))
        docs = docs[rng.permutation(docs.height)]
        budget = pool_chars * weight / total
        starts = docs["text"].str.len_chars().cum_sum() - docs["text"].str.len_chars()
        parts.append(docs.filter(starts < budget).with_columns(domain=pl.lit(domain)))
    pool = pl.concat(parts)
    variant = np.where(rng.random(pool.height) < lq_fraction, rng.choice(LQ_VARIANTS, pool.height), "clean")
    texts = [make_variant(t, v, rng) for t, v in zip(pool["text"], variant)]
    return pool.select("domain", "id", variant=pl.Series(variant), text=pl.Series(texts, dtype=pl.String))
