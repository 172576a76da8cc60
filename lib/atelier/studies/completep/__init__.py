"""Study 03, CompleteP: hyperparameter transfer across width, depth, batch size, duration and modules.

Reproduces, at small scale, CompleteP (Dey et al. 2025, arXiv 2505.01618) and its per-module
extension Complete(d)P (arXiv 2512.22382) with the parameterisations of atelier.nn:
a coordinate check (coordcheck), loss-vs-LR sweeps across width and depth with parabola optima
(sweeps, optimum), batch-size and duration transfer (transfer) and a per-module search on a
proxy transferred to a larger model (search, permodule).
"""

from atelier.studies.completep.charts import (
    batch_chart, coord_chart, drift_chart, duration_chart, search_chart, sweep_chart,
)
from atelier.studies.completep.claims import claims
from atelier.studies.completep.config import Config
from atelier.studies.completep.coordcheck import parameterisations, run_coord_check, spread
from atelier.studies.completep.data import build_data, longest_run, with_batch_size
from atelier.studies.completep.models import build_model, parameterisation
from atelier.studies.completep.optimum import (
    Optimum, bootstrap_intervals, bootstrap_optima, drift, fit_optimum, optima,
)
from atelier.studies.completep.permodule import PerModuleResult, global_only, per_module_transfer, steps_to_reach
from atelier.studies.completep.search import SEARCH_SPACE, SearchResult, multipliers, trust_region_search
from atelier.studies.completep.sweeps import lr_sweep, measure_curve, sizes, sweep_settings
from atelier.studies.completep.training import RunResult, mean_loss, seed_losses, train_config, train_run
from atelier.studies.completep.transfer import batch_transfer, duration_transfer

__all__ = [
    "SEARCH_SPACE", "Config", "Optimum", "PerModuleResult", "RunResult", "SearchResult", "batch_chart",
    "batch_transfer", "bootstrap_intervals", "bootstrap_optima", "build_data", "build_model", "claims", "coord_chart",
    "drift", "drift_chart", "duration_chart", "duration_transfer", "fit_optimum", "global_only", "longest_run", "lr_sweep",
    "mean_loss", "measure_curve", "multipliers", "optima", "parameterisation", "parameterisations",
    "per_module_transfer", "run_coord_check", "search_chart", "seed_losses", "sizes", "spread", "steps_to_reach",
    "sweep_chart", "sweep_settings", "train_config", "train_run", "trust_region_search",
    "with_batch_size",
]
