"""Mixture: sample documents from several datasets by weight, reproducibly.

Each draw picks a domain with probability equal to its weight, then the domain's next document
in a seeded shuffled order (reshuffled after each pass), so documents repeat only once a
domain is exhausted. Per-call weights let a study change the mixture batch by batch (study
09 draws domain weights h for every batch); inject() mixes a fraction p of another domain or
mixture in (study 08 injects pretraining data into finetuning).

    mix = Mixture({"fortunes": 0.7, "wordnet-examples": 0.3}, seed=0)
    docs = mix.sample(64)                                       # polars: domain, id, text
    docs = mix.sample(64, weights={"fortunes": 0.1, "wordnet-examples": 0.9})
    ft = Mixture({"facts-documents": 1.0}).inject(mix, p=0.01)

Weights are shares of documents (unit="documents") or of characters (unit="characters": a
domain is drawn with probability proportional to weight / mean document length, so its
expected share of the text is its weight; a proxy for a share of tokens).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from atelier.data.cache import stable_hash
from atelier.data.catalog import load


UNITS = ("documents", "characters")


def _normalised(weights: dict[str, float]) -> dict[str, float]:
    if not weights:
        raise ValueError("a mixture needs at least one domain")
    bad = {name: w for name, w in weights.items() if not np.isfinite(w) or w < 0}
    if bad:
        raise ValueError(f"mixture weights must be finite and >= 0, got {bad}")
    total = float(sum(weights.values()))
    if total <= 0:
        raise ValueError(f"mixture weights must not all be zero, got {weights}")
    return {name: float(w) / total for name, w in weights.items()}


class Mixture:
    """Documents drawn from datasets (manifest names) by weight; seed fixes every draw."""

    def __init__(self, weights: dict[str, float], seed: int = 0, split: str = "train", unit: str = "documents") -> None:
        if unit not in UNITS:
            raise ValueError(f"unknown mixture unit {unit!r}; valid: {', '.join(UNITS)}")
        self.weights = _normalised(weights)
        self.domains = list(self.weights)
        self.seed, self.split, self.unit = seed, split, unit
        self.rng = np.random.default_rng(seed)
        self._docs: dict[str, pl.DataFrame] = {}
        self._order: dict[str, np.ndarray] = {}
        self._cursor: dict[str, int] = {}
        self._epoch: dict[str, int] = {}

    def __repr__(self) -> str:
        weights = ", ".join(f"{d}: {w:.3g}" for d, w in self.weights.items())
        return f"Mixture({{{weights}}}, seed={self.seed}, split={self.split!r}, unit={self.unit!r})"

    def documents(self, domain: str) -> pl.DataFrame:
        """The split's documents of one domain (id, text), loaded once."""
        if domain not in self._docs:
            docs = load(domain, self.split).select("id", "text")
            if docs.height == 0:
                raise ValueError(f"dataset {domain!r} has no documents in split {self.split!r}")
            self._docs[domain] = docs
        return self._docs[domain]

    def _next_rows(self, domain: str, k: int) -> np.ndarray:
        """Row indices of the domain's next k documents in its seeded order (cycling by epoch)."""
        n = self.documents(domain).height
        rows = []
        while k > 0:
            if self._cursor.get(domain, n) >= n:
                epoch = self._epoch.get(domain, -1) + 1
                rng = np.random.default_rng(int(stable_hash([self.seed, domain, epoch]), 16))
                self._order[domain], self._cursor[domain], self._epoch[domain] = rng.permutation(n), 0, epoch
            start = self._cursor[domain]
            take = min(k, n - start)
            rows.append(self._order[domain][start : start + take])
            self._cursor[domain], k = start + take, k - take
        return np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)

    def draw_domains(self, n: int, weights: dict[str, float] | None = None) -> np.ndarray:
        """n domain names drawn i.i.d. by weight (self.weights unless weights is given)."""
        weights = self.weights if weights is None else _normalised(weights)
        unknown = set(weights) - set(self.domains)
        if unknown:
            raise ValueError(f"domains {sorted(unknown)} are not in this mixture; valid: {', '.join(self.domains)}")
        probs = np.array([weights.get(d, 0.0) for d in self.domains])
        if self.unit == "characters":
            mean_chars = np.array([self.documents(d)["text"].str.len_chars().mean() if p > 0 else 1.0
                                   for d, p in zip(self.domains, probs)])  # fmt: skip
            probs = probs / mean_chars / (probs / mean_chars).sum()
        return np.array(self.domains, dtype=object)[self.rng.choice(len(self.domains), size=n, p=probs)]

    def sample(self, n: int, weights: dict[str, float] | None = None) -> pl.DataFrame:
        """n documents (domain, id, text) in draw order; weights override the mixture's for this call."""
        domains = self.draw_domains(n, weights)
        parts, positions = [], []
        for domain in self.domains:
            where = np.flatnonzero(domains == domain)
            if where.size:
                rows = self.documents(domain)[self._next_rows(domain, where.size)]
                parts.append(rows.with_columns(pl.lit(domain).alias("domain")))
                positions.append(where)
        if not parts:
            return pl.DataFrame(schema={"domain": pl.String, "id": pl.String, "text": pl.String})
        order = np.argsort(np.concatenate(positions), kind="stable")
        return pl.concat(parts).select("domain", "id", "text")[order]

    def texts(self, n: int, weights: dict[str, float] | None = None) -> list[str]:
        return self.sample(n, weights)["text"].to_list()

    def inject(self, other: str | Mixture, p: float) -> Mixture:
        """A new mixture: a fraction p from `other` (a dataset or a mixture), 1 - p from this one."""
        if not 0 <= p <= 1:
            raise ValueError(f"injection fraction p must be in [0, 1], got {p}")
        injected = {other: 1.0} if isinstance(other, str) else other.weights
        weights = {d: (1 - p) * w for d, w in self.weights.items()}
        for domain, w in injected.items():
            weights[domain] = weights.get(domain, 0.0) + p * w
        return Mixture({d: w for d, w in weights.items() if w > 0}, seed=self.seed, split=self.split, unit=self.unit)

    def with_split(self, split: str, seed: int | None = None) -> Mixture:
        """The same weights over another split (e.g. "val" for held-out evaluation)."""
        return Mixture(self.weights, seed=self.seed if seed is None else seed, split=split, unit=self.unit)
