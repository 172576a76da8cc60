"""Config of study 07 (multi-view causal discovery): sweep grids, repetitions, the EEG simulation.

Kept apart from the experiments so that validating a run's parameters imports nothing heavy.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from atelier.studies.config import StudyConfig

METHOD_NAMES = ("limvam_shica_ml", "limvam_shica_j", "limvam_multiviewica", "ica_lingam", "multigroup_direct_lingam")


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Knobs of study 07; the defaults are the cpu preset."""

    n_vars: int = 4  # p variables per view
    n_views: int = 5  # m views
    n_samples: int = 1000  # n per view (all sweeps but the one over n)
    noise_level: float = 1.0  # multiplies the view-specific noise std
    n_gaussian: int = 4  # Gaussian shared components (4 of 4: only variance diversity identifies)
    reps: int = 10  # repetitions per setting
    methods: tuple[str, ...] = METHOD_NAMES
    samples_grid: tuple[int, ...] = (250, 500, 1000, 2000, 4000)
    views_grid: tuple[int, ...] = (2, 3, 5, 8)
    noise_grid: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0)
    gaussian_grid: tuple[int, ...] = (0, 1, 2, 3, 4)
    equal_grid: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    equal_methods: tuple[str, ...] = ("limvam_shica_ml", "limvam_shica_j")
    eeg_regions: int = 6  # brain regions (graph nodes)
    eeg_edges: int = 7  # edges of the simulated region graph
    eeg_subjects: int = 8  # views
    eeg_samples: int = 3000  # time samples per subject
    eeg_gaussian: int = 6  # Gaussian shared components of the region SEM
    eeg_snr: float = 3.0  # sensor SNR (amplitude) and MNE's lambda2 = 1 / snr^2
    eeg_grid_mm: float = 15.0  # spacing of the inverse's volume source grid
    eeg_threshold: float = 0.25  # |B| above which an edge is declared
    eeg_reps: int = 5  # simulated studies (graphs, subjects, noise)
    chance_draws: int = 2000  # random graphs for the chance F1

    PRESETS: ClassVar[dict] = {
        "smoke": {
            "reps": 2, "n_samples": 300, "samples_grid": (200, 500), "views_grid": (2, 5),
            "noise_grid": (0.3, 1.0), "gaussian_grid": (0, 4), "equal_grid": (0, 5),
            "eeg_subjects": 4, "eeg_samples": 1000, "eeg_reps": 1, "eeg_grid_mm": 20.0, "chance_draws": 200,
        },
        "gpu": {
            "reps": 50, "samples_grid": (250, 500, 1000, 2000, 4000, 10000), "views_grid": (2, 3, 5, 8, 12),
            "noise_grid": (0.1, 0.3, 1.0, 2.0, 3.0), "eeg_subjects": 16, "eeg_samples": 10000,
            "eeg_reps": 20, "eeg_grid_mm": 10.0,
        },
    }

    def __post_init__(self):
        unknown = sorted(set(self.methods + self.equal_methods) - set(METHOD_NAMES))
        if unknown:
            raise ValueError(f"unknown methods {unknown}; valid: {', '.join(METHOD_NAMES)}")
