"""Study 05's knobs. Defaults are the cpu preset; PRESETS hold what smoke and gpu change."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from atelier.studies.config import StudyConfig

# shares of the pool's characters: a crawl where reference text (facts, dictionary) is a minority
POOL_WEIGHTS = {
    "python-stdlib": 0.25, "manpages": 0.2, "fortunes": 0.2, "wordnet-examples": 0.1,
    "wordnet-definitions": 0.15, "facts-documents": 0.1,
}  # fmt: skip
# the HQ set, shares of documents: a typical majority kind (dictionary entries) and an atypical minority
# (fortunes) rarer in the HQ set than in the pool, so that the classifier scores it low
HQ_SHARES = {"wordnet-definitions": 0.9, "fortunes": 0.1}


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    # the pool and the HQ set
    pool_weights: dict = dataclasses.field(default_factory=lambda: dict(POOL_WEIGHTS))  # domain -> share of characters
    pool_chars: int = 4_000_000  # characters in the pool (clean, before variants)
    lq_fraction: float = 0.5  # pool documents turned into a boilerplate / truncated / shuffled variant
    max_doc_chars: int = 1500  # longer documents (man pages, code) keep their first page
    hq_shares: dict = dataclasses.field(default_factory=lambda: dict(HQ_SHARES))  # clean HQ domain -> share of HQ documents
    hq_train_docs: int = 3000  # HQ documents the classifier (and the permutation control) learn from
    hq_eval_docs: int = 400  # held-out HQ documents whose loss is measured
    # the classifier and the filter
    ngrams: int = 2  # word n-grams up to this order
    classifier_C: float = 1.0  # inverse L2 strength of the logistic regression
    keep_fractions: tuple[float, ...] = (1.0, 0.5, 0.25, 0.1)  # r: the fraction of pool documents kept
    n_quantiles: int = 4  # bins of held-out HQ documents by classifier score
    # the permutation control
    qualities: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)  # q: fraction of token positions left in place
    # the downstream tasks
    choices: int = 4  # k: answers per question (chance = 1/k)
    facts_groups: int = 40  # groups of k questions per facts relation (city, capital, symbol)
    definition_groups: int = 120  # groups of k words in definition matching
    well_formed_groups: int = 300  # held-out HQ entries, each against 3 corrupted copies (swapped, boilerplate, truncated)
    # the language models (identical for every run: equal compute)
    vocab_size: int = 2048  # BPE trained on atelier's default text mixture
    width: int = 64
    depth: int = 2
    n_heads: int = 4
    seq_len: int = 128
    batch_size: int = 16
    steps: int = 300
    lr: float = 3e-3
    warmup_steps: int = 30
    weight_decay: float = 0.0
    log_every: int = 10
    torch_threads: int = 1  # CPU threads while training; 1 avoids oversubscribing shared cores (0: torch's default)

    PRESETS: ClassVar[dict] = {
        "smoke": {"pool_chars": 400_000, "hq_train_docs": 500, "hq_eval_docs": 100, "keep_fractions": (1.0, 0.25),
                  "qualities": (0.5, 1.0), "facts_groups": 5, "definition_groups": 10,
                  "well_formed_groups": 20, "steps": 20,
                  "warmup_steps": 2, "log_every": 5, "n_quantiles": 2},
        "gpu": {"pool_chars": 60_000_000, "hq_train_docs": 3000, "hq_eval_docs": 1500, "facts_groups": 200,
                "definition_groups": 1000, "well_formed_groups": 1000, "qualities": (0.0, 0.25, 0.5, 0.75, 0.9, 1.0), "vocab_size": 4096,
                "width": 384, "depth": 6, "n_heads": 6, "seq_len": 256, "batch_size": 64, "steps": 6000,
                "lr": 1e-3, "warmup_steps": 300, "weight_decay": 0.1, "log_every": 50, "n_quantiles": 5,
                "torch_threads": 0},
    }

    def __post_init__(self):
        bad = [d for d, share in self.hq_shares.items() if d not in self.pool_weights or not share > 0]
        if bad or not self.hq_shares:
            raise ValueError(f"hq_shares={self.hq_shares} must give positive shares to some of the pool's domains: "
                             f"{', '.join(self.pool_weights)}")
        bad = [r for r in self.keep_fractions if not 0 < r <= 1]
        if bad or 1.0 not in self.keep_fractions:
            raise ValueError(f"keep_fractions={self.keep_fractions} must lie in (0, 1] and include 1.0 (no filter)")
        if any(not 0 <= q <= 1 for q in self.qualities) or len(self.qualities) < 2:
            raise ValueError(f"qualities={self.qualities} must be >= 2 values in [0, 1]")
