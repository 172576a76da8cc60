"""Synthetic data quality by random token permutations.

A document of quality q keeps a fraction q of its token positions and shuffles the tokens of
the other 1 - q among those positions: q = 1 is the clean document, q = 0 a bag of its
tokens in random order. The unigram statistics never change, only the structure that a
language model could learn, so q is a quality knob with a known direction.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def permute_fraction(ids: Sequence[int], q: float, rng: np.random.Generator) -> list[int]:
    """ids with round((1 - q) * len) random positions permuted among themselves."""
    if not 0 <= q <= 1:
        raise ValueError(f"quality q must be in [0, 1], got {q}")
    out = np.asarray(ids, dtype=np.int64).copy()
    positions = rng.choice(len(out), size=round((1 - q) * len(out)), replace=False)
    out[positions] = out[rng.permutation(positions)]
    return out.tolist()
