"""Study 08: scaling laws for forgetting and overfitting when finetuning, and pretraining-data
injection (Bethune et al., arXiv 2502.06042).

Model sizes pretrain on a general English mixture (training.py); each is finetuned on held-out
target domains over a grid of unique target tokens and injected fractions of pretraining data
(data.py: the injection stream), with the pretraining and target validation losses tracked
along every run; experiments.py summarises the runs and locates each run's early stop in
continuous time (for the law, on its losses averaged over pretraining seeds), laws.py fits the
forgetting law (additive and multiplicative variants) and the target-loss law, claims.py
measures the findings.
"""

from atelier.studies.finetune_forgetting.charts import (
    early_stop_chart, fit_chart, injection_chart, knee_chart, pretraining_chart, trajectory_chart,
)
from atelier.studies.finetune_forgetting.claims import study_claims, u_curve_depth
from atelier.studies.finetune_forgetting.config import Config
from atelier.studies.finetune_forgetting.data import Corpora, build_corpora, finetune_stream, injection_mask
from atelier.studies.finetune_forgetting.experiments import (
    continuous_early_stop, early_stops, finetune_grid, fit_laws, injection_knee, law_points, pretrain_sizes,
    pretraining_curves, seed_mean_curves, summarise,
)
from atelier.studies.finetune_forgetting.laws import VARIANTS, ForgettingLaw, fit_forgetting, fit_target
from atelier.studies.finetune_forgetting.training import Pretrained, Trajectory, eval_steps, finetune, pretrain

__all__ = [
    "VARIANTS", "Config", "Corpora", "ForgettingLaw", "Pretrained", "Trajectory", "build_corpora",
    "continuous_early_stop", "early_stop_chart", "early_stops", "eval_steps", "finetune", "finetune_grid",
    "finetune_stream", "fit_chart", "fit_forgetting", "fit_laws", "fit_target", "injection_chart", "injection_knee",
    "injection_mask", "knee_chart", "law_points", "pretrain", "pretrain_sizes", "pretraining_chart",
    "pretraining_curves", "seed_mean_curves", "study_claims", "summarise", "trajectory_chart", "u_curve_depth",
]
