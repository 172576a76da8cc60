"""Study 00, the quickstart: train a tiny transformer end to end and check it against known entropy.

The data are samples of a random second-order Markov chain (markov.py), so the best possible
loss is known exactly; the experiment (experiment.py) trains atelier.nn.Transformer with
atelier.train.fit and compares the validation loss with that floor.
"""

from atelier.studies.quickstart.config import Config
from atelier.studies.quickstart.experiment import (
    BUILDER, QuickstartResult, build, claims, loss_chart, run, summary_table, train_config,
)
from atelier.studies.quickstart.markov import MarkovChain, SequenceDataset

__all__ = ["BUILDER", "Config", "MarkovChain", "QuickstartResult", "SequenceDataset", "build", "claims",
           "loss_chart", "run", "summary_table", "train_config"]
