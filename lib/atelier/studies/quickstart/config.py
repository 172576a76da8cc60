"""Config of the quickstart study: a tiny transformer on a known second-order Markov chain."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from atelier.studies.config import StudyConfig


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Defaults are the cpu preset (about a minute on 2 CPU cores)."""

    # the data: a random second-order Markov chain (fixed by chain_seed, not by the run seed)
    vocab_size: int = 16
    concentration: float = 0.05  # Dirichlet concentration of the transition rows: smaller = more predictable
    chain_seed: int = 0
    seq_len: int = 64
    val_sequences: int = 256
    # the model: atelier.nn.Transformer, causal
    width: int = 64
    depth: int = 2
    n_heads: int = 4
    # training
    steps: int = 500
    batch_size: int = 32  # sequences per step (per device under launch)
    lr: float = 3e-3
    warmup_steps: int = 50
    schedule: str = "cosine"
    weight_decay: float = 0.0
    log_every: int = 10

    PRESETS: ClassVar[dict] = {
        "smoke": {"steps": 40, "batch_size": 16, "val_sequences": 64, "width": 32, "warmup_steps": 5,
                  "log_every": 5},
        "gpu": {"vocab_size": 64, "concentration": 0.02, "seq_len": 256, "width": 256, "depth": 4,
                "n_heads": 8, "steps": 2000, "batch_size": 128, "lr": 1e-3, "warmup_steps": 200,
                "val_sequences": 1024, "log_every": 20},
    }
