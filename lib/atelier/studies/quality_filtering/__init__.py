"""Study 05: classifier-based quality filtering and the data-quality illusion (arXiv 2510.00866).

A pool of real domains with lower-quality variants (pool.py, variants.py), an HQ set of clean
documents of a typical majority kind and an atypical minority, a bag-of-n-grams logistic-regression quality classifier (classifier.py),
equal-compute language models trained on the top r% of the pool or on HQ documents with a
fraction 1 - q of their tokens permuted (permute.py, lm.py, experiments.py), measured on
likelihood-scored multiple-choice tasks (tasks.py) and on held-out HQ documents split by
classifier score (analysis.py); charts.py and claims.py turn the results into the figures
and claims of the notebook.
"""

from atelier.studies.quality_filtering.analysis import (
    kept_composition, pool_summary, quantile_losses, score_table, summary,
)
from atelier.studies.quality_filtering.claims import measure_claims
from atelier.studies.quality_filtering.config import Config
from atelier.studies.quality_filtering.experiments import (
    Runs, Setup, concat_runs, filtering_runs, prepare, synthetic_runs,
)

__all__ = ["Config", "Runs", "Setup", "concat_runs", "filtering_runs", "kept_composition", "measure_claims", "pool_summary",
           "prepare", "quantile_losses", "score_table", "summary", "synthetic_runs"]
