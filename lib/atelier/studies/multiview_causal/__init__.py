"""Study 07: multi-view linear causal discovery with ICA-LiMVAM (arXiv 2502.20115).

Modules: sem (simulation), jointdiag and shica (ShICA-J, ShICA-ML), mvica (MultiViewICA when
it imports), limvam (ICA-LiMVAM), baselines (lingam), metrics, eeg (the MNE pipeline),
experiments (Config, sweeps, EEG study), charts, claims.
"""

from atelier.studies.multiview_causal.claims import study_claims
from atelier.studies.multiview_causal.experiments import (
    METHODS, Config, eeg_study, model_sample, noise_table, runnable, summarize, sweep,
)
from atelier.studies.multiview_causal.limvam import ica_limvam

__all__ = ["METHODS", "Config", "eeg_study", "ica_limvam", "model_sample", "noise_table", "runnable", "study_claims",
           "summarize", "sweep"]
