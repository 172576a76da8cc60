"""Study 02's knobs. Defaults are the cpu preset; PRESETS hold what smoke and gpu change."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from atelier.studies.config import StudyConfig

RULES = ("none", "loss", "rho", "lacy")
HELPERS = ("atelier", "smollm2")


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    # corpus
    n_cities: int = 100  # most populous unambiguous cities described (plus every country and element)
    variants: int = 3  # phrasings of each entity's document
    entity_fraction: float = 0.5  # share of those entities kept (by hash), to shrink the corpus
    heldout_fraction: float = 0.2  # entities whose documents are never trained on
    n_wordnet: int = 400  # WordNet definitions mixed into the corpus (packed several to a sequence)
    vocab_size: int = 2048  # BPE tokenizer trained on the english mixture
    seq_len: int = 128  # tokens per training sequence (one document, padded)
    # small LM (the one that learns to <call>) and the bigger model it delegates to
    slm_width: int = 64
    slm_depth: int = 2
    slm_steps: int = 400
    big_width: int = 128
    big_depth: int = 4
    big_steps: int = 800
    batch_size: int = 16
    lr: float = 3e-3
    # labelling
    rules: tuple[str, ...] = RULES  # which labelling rules to train
    budgets: tuple[float, ...] = (0.05, 0.1, 0.2)  # fraction of training tokens labelled <call>
    pr_quantiles: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3)  # q of the precision/recall table
    # cascade
    n_prompts: int = 200  # prompts per split (seen / held-out entities; at most one per document)
    max_new_tokens: int = 32  # generated tokens per prompt (about two sentences)
    helper: str = "atelier"  # who answers a <call>: atelier (the bigger model) | smollm2 (SmolLM2-135M-Instruct)
    max_span: int = 6  # most helper tokens in the one word written for a <call>

    PRESETS: ClassVar[dict] = {
        "smoke": {"n_cities": 10, "entity_fraction": 0.15, "variants": 1, "n_wordnet": 40, "slm_steps": 8,
                  "big_steps": 8, "batch_size": 8,
                  "big_width": 64, "big_depth": 2, "budgets": (0.1,), "n_prompts": 4, "max_new_tokens": 12},
        "gpu": {"n_cities": 3000, "entity_fraction": 1.0, "variants": 5, "n_wordnet": 20000, "vocab_size": 4096,
                "slm_width": 128, "slm_depth": 4, "slm_steps": 6000, "big_width": 512, "big_depth": 8, "big_steps": 20000,
                "batch_size": 64, "budgets": (0.02, 0.04, 0.06, 0.08, 0.12, 0.16), "n_prompts": 1000,
                "max_new_tokens": 48},
    }

    def __post_init__(self):
        unknown = [r for r in self.rules if r not in RULES]
        if unknown or "none" not in self.rules:
            raise ValueError(f"rules={self.rules}: need 'none' and any of {', '.join(RULES)}")
        if self.helper not in HELPERS:
            raise ValueError(f"helper={self.helper!r}; valid: {', '.join(HELPERS)}")
        if not all(0.0 < b < 1.0 for b in self.budgets) or len(self.budgets) < 1:
            raise ValueError(f"budgets={self.budgets} must be fractions in (0, 1)")
        if not 0.0 < self.entity_fraction <= 1.0:
            raise ValueError(f"entity_fraction={self.entity_fraction} must be in (0, 1]")
        if not 0.0 < self.heldout_fraction < 1.0:
            raise ValueError(f"heldout_fraction={self.heldout_fraction} must be in (0, 1)")
