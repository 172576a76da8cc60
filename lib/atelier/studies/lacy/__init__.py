"""Study 02 — LaCy: which tokens a small LM should learn and which it should delegate with <call>.

    from atelier.studies.lacy import Config, experiments
    p = experiments.prepare(Config.preset("smoke"), seed=0)
"""

from atelier.studies.lacy import charts, experiments
from atelier.studies.lacy.claims import measure_claims
from atelier.studies.lacy.config import RULES, Config

__all__ = ["RULES", "Config", "charts", "experiments", "measure_claims"]
