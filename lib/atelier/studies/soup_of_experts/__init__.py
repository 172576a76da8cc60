"""Study 09, Soup-of-Experts (Ablin et al. 2025, arXiv 2502.01804): specialist models
instantiated from domain weights by a learned linear combination of an expert bank.

soup.py the architecture (S, experts, router; functional_call on atelier's Transformer);
meta.py the sparse Dirichlet meta-distribution; domains.py the real domains and batches from a
mixture h; training.py the runs (through atelier.train.fit); evaluation.py exact losses on
mixtures; targets.py h of a few-sample target by kNN histograms; experiments.py one function
per notebook section; charts.py and claims.py the figures and the claims.
"""

from atelier.studies.soup_of_experts import charts
from atelier.studies.soup_of_experts.claims import claims
from atelier.studies.soup_of_experts.config import DOMAINS, Config
from atelier.studies.soup_of_experts.domains import MixtureBatches, domain_blocks
from atelier.studies.soup_of_experts.evaluation import MixtureLossCurve, domain_losses, soup_losses
from atelier.studies.soup_of_experts.experiments import (
    baselines, expert_sweep, few_sample_targets, heldout_losses, meta_samples, prepare, specialist_cost, step_cost,
    train_main, training_curves,
)
from atelier.studies.soup_of_experts.meta import Fixed, SparseDirichlet
from atelier.studies.soup_of_experts.soup import SoupLoss, SoupOfExperts
from atelier.studies.soup_of_experts.targets import draw_samples, knn_histogram

__all__ = [
    "DOMAINS", "Config", "Fixed", "MixtureBatches", "MixtureLossCurve", "SoupLoss", "SoupOfExperts",
    "SparseDirichlet", "baselines", "charts", "claims", "domain_blocks", "domain_losses", "draw_samples",
    "expert_sweep", "few_sample_targets", "heldout_losses", "knn_histogram", "meta_samples", "prepare",
    "soup_losses", "specialist_cost", "step_cost", "train_main", "training_curves",
]
