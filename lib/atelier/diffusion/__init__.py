"""Masked discrete diffusion: masking schedules, the NELBO objective and samplers."""

from atelier.diffusion.loss import MaskedDiffusionLoss
from atelier.diffusion.samplers import (METHODS, ancestral_rule, factor_rule, make_rule, most_confident, propose,
                                        sample, threshold_rule, top_k_rule)
from atelier.diffusion.schedules import SCHEDULES, Cosine, Linear, Polynomial, Schedule, get_schedule

__all__ = ["METHODS", "SCHEDULES", "Cosine", "Linear", "MaskedDiffusionLoss", "Polynomial", "Schedule",
           "ancestral_rule", "factor_rule", "get_schedule", "make_rule", "most_confident", "propose", "sample",
           "threshold_rule", "top_k_rule"]
