"""The studies atelier reproduces: one notebook and one Config module each.

``STUDIES`` is the registry the runner and the CLI read. A study's notebook is
``notebooks/NN_<name>.ipynb`` and its Config lives in ``atelier.studies.<name>``.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

from atelier.paths import repo_root


@dataclasses.dataclass(frozen=True)
class Study:
    number: int
    name: str
    title: str
    in_all: bool = True  # part of `atelier run --all`

    @property
    def notebook(self) -> Path:
        return repo_root() / "notebooks" / f"{self.number:02d}_{self.name}.ipynb"

    @property
    def module(self) -> str:
        return f"atelier.studies.{self.name}"

    def config_class(self):
        """The study's Config class, from its ``config`` module alone.

        Validating a run's parameters must not pay for importing the study's experiments
        (torch and lightning: seconds per ``atelier run``), so the module is loaded from its
        file without running the study package's ``__init__``. It is registered under its
        usual name, so a later ``import atelier.studies.<name>`` reuses it.
        """
        name = f"{self.module}.config"
        if name not in sys.modules:
            path = Path(__file__).parent / self.name / "config.py"
            if not path.exists():
                raise ImportError(f"no Config module at {path}")
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
        return sys.modules[name].Config


STUDIES: dict[str, Study] = {
    s.name: s
    for s in [
        Study(0, "quickstart", "Quickstart: train a tiny model end to end", in_all=False),
        Study(1, "trimodal_diffusion", "Tri-modal masked diffusion: scaling, mixing, schedules, batch size, sampling"),
        Study(2, "lacy", "LaCy: which tokens a small LM should learn and which it should delegate"),
        Study(3, "completep", "CompleteP: hyperparameter transfer across width, depth, batch, duration, modules"),
        Study(4, "unmasking_policy", "Learning unmasking policies for diffusion LMs with GRPO"),
        Study(5, "quality_filtering", "Classifier-based quality filtering: the data-quality illusion"),
        Study(6, "truth_probes", "Geometries of truth are task-dependent: probes on SmolLM2"),
        Study(7, "multiview_causal", "Multi-view linear causal discovery (ICA-LiMVAM) with an MNE pipeline"),
        Study(8, "finetune_forgetting", "Scaling laws for forgetting and overfitting in finetuning"),
        Study(9, "soup_of_experts", "Soup-of-Experts: specialists instantiated from domain weights"),
        Study(10, "transformer_pde", "The Transformer PDE: mean-field limit, Gaussians, clustering"),
    ]
}


def get_study(name: str) -> Study:
    """The study called ``name``; an unknown name fails naming the valid ones."""
    if name not in STUDIES:
        raise KeyError(f"unknown study {name!r}; valid studies: {', '.join(STUDIES)}")
    return STUDIES[name]


def available_studies() -> list[Study]:
    """Studies whose notebook exists in this checkout."""
    return [s for s in STUDIES.values() if s.notebook.exists()]
