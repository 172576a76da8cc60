"""The quality classifier: bag of word n-grams and logistic regression (fastText-style).

As in DCLM's fastText filter, it learns to tell HQ documents (label 1) from an equal number
of pool documents (label 0); a document's quality score is its predicted log-odds of being
HQ. Features are hashed word uni- and bigrams (lowercased), L2-normalised per document, so
the model is linear in n-gram frequencies, like fastText's averaged n-gram embeddings with a
linear output.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression


@dataclasses.dataclass
class QualityClassifier:
    ngrams: int = 2  # word n-grams up to this order
    n_features: int = 2**18  # hashing buckets
    C: float = 1.0  # inverse L2 strength of the logistic regression

    def __post_init__(self):
        self.vectorizer = HashingVectorizer(ngram_range=(1, self.ngrams), n_features=self.n_features,
                                            alternate_sign=False, norm="l2")
        self.model = LogisticRegression(C=self.C, max_iter=1000)

    def fit(self, hq: Sequence[str], pool: Sequence[str]) -> "QualityClassifier":
        """Learn HQ (1) against pool (0) documents."""
        X = self.vectorizer.transform([*hq, *pool])
        y = np.r_[np.ones(len(hq)), np.zeros(len(pool))]
        self.model.fit(X, y)
        return self

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Quality score of each text: the log-odds that it is HQ, float64[N]."""
        return self.model.decision_function(self.vectorizer.transform(list(texts)))


def keep_top(scores: np.ndarray, fraction: float) -> np.ndarray:
    """Bool mask of the ceil(fraction * N) highest scores (ties broken by position)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"keep fraction must be in (0, 1], got {fraction}")
    k = int(np.ceil(fraction * len(scores)))
    keep = np.zeros(len(scores), dtype=bool)
    keep[np.argsort(-scores, kind="stable")[:k]] = True
    return keep
