"""Config of the Soup-of-Experts study: defaults are the cpu preset (about 10 minutes on 2 cores)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from atelier.studies.config import StudyConfig

# the pretraining domains, each a corpus of atelier.data
DOMAINS = ("wordnet-definitions", "wordnet-examples", "fortunes", "python-stdlib", "facts-documents", "manpages")


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    # data: real domains, each packed into blocks of seq_len tokens
    domains: tuple[str, ...] = DOMAINS
    tokenizer: str = "default"  # atelier.data.get_tokenizer mixture name
    vocab_size: int = 1024
    seq_len: int = 64
    train_blocks: int = 1500  # blocks per domain held for training
    val_blocks: int = 16  # blocks per domain for every loss on a mixture
    # meta-distribution over domain weights: sparse Dirichlet
    support: int = 2  # non-zero domains per draw
    concentration: float = 1.0  # Dirichlet concentration on the support
    # the instantiated model: atelier.nn.Transformer
    width: int = 32  # small enough that domains compete for capacity within the cpu budget
    depth: int = 2
    n_heads: int = 2
    # the soup
    n_experts: int = 8  # experts of the main soup
    expert_counts: tuple[int, ...] = (1, 4, 8)  # the sweep (includes n_experts)
    router_hidden: int = 64
    expert_init_std: float = 0.02  # experts start N(0, std^2) (the template's weights start at std 0.02)
    router_init_scale: float = 10.0  # the router's output layer starts scaled: alpha(h) peaked from step 0
    # training (soup and generalist: same steps, batch and tokens)
    steps: int = 1000
    batch_size: int = 16
    lr: float = 6e-3
    warmup_steps: int = 50
    log_every: int = 10
    # evaluation on held-out h
    heldout: int = 16  # random h from the meta-distribution, unseen in training
    # baselines on a few h: specialists from scratch and the generalist finetuned
    specialist_h: int = 3
    specialist_steps: int = 300
    finetune_steps: int = 100
    finetune_lr: float = 2e-3
    curve_every: int = 50  # steps between loss evaluations along those runs
    # few-sample targets: h estimated from MiniLM embeddings of a few sequences
    targets: int = 8
    target_samples: int = 16  # sequences seen from each target
    reference_blocks: int = 32  # labelled blocks per domain the target samples are matched to
    neighbours: int = 5  # k of the k-nearest-neighbour domain vote

    PRESETS: ClassVar[dict] = {
        "smoke": {"train_blocks": 100, "val_blocks": 4, "steps": 20, "warmup_steps": 2, "log_every": 5,
                  "batch_size": 8, "n_experts": 2, "expert_counts": (1, 2), "heldout": 3, "specialist_h": 1,
                  "specialist_steps": 10, "finetune_steps": 10, "curve_every": 5, "targets": 2, "target_samples": 4,
                  "reference_blocks": 8, "neighbours": 3},
        # one H100, about an hour; the smallest domains (WordNet examples, ~0.4M tokens) repeat for many epochs
        "gpu": {"vocab_size": 4096, "seq_len": 128, "train_blocks": 20000, "val_blocks": 128, "width": 256,
                "depth": 4, "n_heads": 4, "n_experts": 32, "expert_counts": (1, 4, 16, 32), "router_hidden": 256,
                "steps": 6000, "batch_size": 64, "lr": 3e-3, "warmup_steps": 300, "log_every": 50, "heldout": 64,
                "specialist_h": 6, "specialist_steps": 6000, "finetune_steps": 1000, "finetune_lr": 1e-3,
                "curve_every": 250, "targets": 32, "target_samples": 32, "reference_blocks": 256},
    }

    def __post_init__(self):
        if len(set(self.domains)) < 2:
            raise ValueError(f"domains={self.domains}: need at least two distinct datasets, e.g. {DOMAINS}")
        if self.n_experts not in self.expert_counts:
            raise ValueError(f"n_experts={self.n_experts} must be one of expert_counts={self.expert_counts}")
