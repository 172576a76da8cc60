"""Deterministic train/val/test splits by a hash of each document.

A document goes to a split by where blake2b(its key) falls in [0, 1), cut at the cumulative
split ratios. The assignment depends only on the document itself (not on Python's salted
hash(), the row order or the machine), so it is stable across runs, machines and versions
of a corpus, and identical documents always land in the same split.
"""

from __future__ import annotations

import hashlib
from typing import Iterable

import numpy as np
import polars as pl


def unit_hash(keys: Iterable[str]) -> np.ndarray:
    """Each key's blake2b-64 digest mapped to [0, 1) (float64)."""
    digests = [hashlib.blake2b(key.encode(), digest_size=8).digest() for key in keys]
    as_int = np.frombuffer(b"".join(digests), dtype=">u8")  # [N] big-endian uint64
    return (as_int >> np.uint64(11)).astype(np.float64) / float(1 << 53)  # top 53 bits: exact in float64


def assign_splits(keys: Iterable[str], ratios: dict[str, float]) -> np.ndarray:
    """The split name of each key (ratios in manifest order, summing to 1)."""
    u = unit_hash(keys)
    names = np.array(list(ratios), dtype=object)
    edges = np.cumsum(list(ratios.values()))[:-1]
    return names[np.searchsorted(edges, u, side="right")]


def select_split(df: pl.DataFrame, split: str, ratios: dict[str, float], key: str = "text") -> pl.DataFrame:
    """Rows of df in `split` ("all" keeps every row); key names the column that is hashed."""
    if split == "all":
        return df
    if split not in ratios:
        raise ValueError(f"unknown split {split!r}; valid: {', '.join([*ratios, 'all'])}")
    if key not in df.columns:
        raise ValueError(f"split key column {key!r} is not in the data; columns: {', '.join(df.columns)}")
    keys = df[key].cast(pl.String).fill_null("").to_list()
    return df.filter(pl.Series(assign_splits(keys, ratios) == split))
