"""Batch execution of study notebooks with papermill.

``params`` turns command-line knobs into validated run specs, ``rundir`` names and
finalises run directories, ``execute`` runs one notebook in a worker process, ``batch``
schedules many with live progress and clean interruption, and ``submit`` sends the same
runs to a cluster through submitit.
"""


class RunnerError(ValueError):
    """A study, key, value or executor setting that `atelier run` cannot accept."""
