"""Study 06: geometries of truth are task-dependent (probes on SmolLM2-135M-Instruct).

SmolLM2 answers questions from several offline tasks; its answers are graded against the
facts; linear probes on its residual stream separate right from wrong answers within a task
but not across tasks.
"""

from atelier.studies.truth_probes.config import Config
from atelier.studies.truth_probes.experiments import (
    Data, accuracy_table, answer_questions, cross_task_probes, direction_similarity, sparse_probes,
    task_geometry, transfer,
)

__all__ = ["Config", "Data", "accuracy_table", "answer_questions", "cross_task_probes", "direction_similarity",
           "sparse_probes", "task_geometry", "transfer"]
