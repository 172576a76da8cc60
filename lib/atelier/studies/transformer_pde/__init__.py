"""Study 10: the Transformer PDE (Castin, Ablin, Carrillo, Peyre; arXiv 2501.18322).

Tokens are particles of a measure moved by attention: dx_i/dt = Gamma[mu_n](x_i). The package
holds the velocity fields (attention), the particle integrator (particles), the Gaussian moment
ODEs (gaussian_ode), the covariance regimes (regimes), the measurements (metrics), the
experiments, their charts and the claims.
"""

from atelier.studies.transformer_pde import charts
from atelier.studies.transformer_pde.claims import study_claims
from atelier.studies.transformer_pde.config import Config
from atelier.studies.transformer_pde.experiments import (
    causal_clustering, covariance_regimes, gaussian_moments, mean_field_limit, mean_field_rates,
    moment_error_summary, normality, particle_trajectories, stationary_ranks,
)

__all__ = [
    "Config", "causal_clustering", "charts", "covariance_regimes", "gaussian_moments", "mean_field_limit",
    "mean_field_rates", "moment_error_summary", "normality", "particle_trajectories", "stationary_ranks",
    "study_claims",
]
