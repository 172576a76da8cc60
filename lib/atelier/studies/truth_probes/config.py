"""Study 06's knobs. Defaults are the cpu preset; PRESETS hold what smoke and gpu change."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from atelier.studies.config import StudyConfig

ALL_TASKS = ("city_country", "country_capital", "element_symbol", "number_compare", "addition")


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    tasks: tuple[str, ...] = ALL_TASKS  # question domains (see tasks.TASKS)
    n_per_task: int = 200  # questions per task (capitals and elements have fewer facts: 202 and 236)
    max_new_tokens: int = 8  # greedy answer length; the first line is graded
    batch_size: int = 32  # questions per forward pass
    layers: tuple[int, ...] = (4, 10, 16, 22, 28)  # residual-stream layers read (0 = embeddings, 30 = last)
    probe_layer: int = 16  # the layer of the cosine, L1, geometry figures and the claims
    C: float = 0.05  # inverse L2 strength of the logistic probes (standardised activations)
    n_folds: int = 5  # cross-validation folds of every in-task AUROC
    l1_path_points: int = 16  # points on each L1 regularisation path
    support_sizes: tuple[int, ...] = (5, 10, 20, 40)  # matched support sizes k compared by Jaccard
    claim_support: int = 10  # the k of the Jaccard claim

    PRESETS: ClassVar[dict] = {
        "smoke": {"n_per_task": 10, "max_new_tokens": 6, "layers": (16,), "l1_path_points": 6,
                  "support_sizes": (5, 10), "n_folds": 3},
        "gpu": {"n_per_task": 2000, "max_new_tokens": 12, "batch_size": 256,
                "layers": tuple(range(2, 31, 2)), "l1_path_points": 30, "support_sizes": (5, 10, 20, 40, 80)},
    }

    def __post_init__(self):
        if self.probe_layer not in self.layers:
            raise ValueError(f"probe_layer={self.probe_layer} is not one of layers={self.layers}")
        if self.claim_support not in self.support_sizes:
            raise ValueError(f"claim_support={self.claim_support} is not one of support_sizes={self.support_sizes}")
        unknown = [t for t in self.tasks if t not in ALL_TASKS]
        if unknown or len(self.tasks) < 2:
            raise ValueError(f"tasks={self.tasks}: need >= 2 of {', '.join(ALL_TASKS)}")
