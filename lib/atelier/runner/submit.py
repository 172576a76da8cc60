"""``--executor submitit``: each run becomes a submitit job calling the same ``run_in_worker``.

The cluster comes from ``$ATELIER_CLUSTER`` (default ``slurm``; ``local`` runs the jobs as
processes on this machine), and ``$ATELIER_SUBMITIT`` may hold a YAML mapping of
executor parameters, e.g. ``{slurm_partition: gpu, gpus_per_node: 1, timeout_min: 240}``.
Jobs log to ``<out>/.submitit/``. The batch scheduler in ``batch`` keeps at most ``--jobs``
jobs in flight, so the same throttling, progress and interrupt handling apply; the run
directories must sit on a file system the nodes share.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import yaml

from atelier.runner.execute import run_in_worker
from atelier.runner import RunnerError
from atelier.runner.rundir import RunSpec

DEFAULT_PARAMETERS = {"timeout_min": 240}


class SubmititWorker:
    """A submitted job, seen through the worker interface of ``batch``."""

    def __init__(self, job):
        self.job = job

    def done(self) -> bool:
        return self.job.done()

    def failure(self) -> str:
        err = self.job.exception()
        lines = str(err).strip().splitlines() if err else []
        return f"submitit job {self.job.job_id} ended without finishing: {lines[-1] if lines else self.job.state}"

    def cancel(self) -> None:
        self.job.cancel(check=False)

    def kill(self) -> None:
        if not self.job.done():
            self.job.cancel(check=False)


def submitit_starter(out: Path) -> Callable[[RunSpec], SubmititWorker]:
    """A ``start`` function for ``run_batch`` that submits each run as a job."""
    import submitit

    cluster = os.environ.get("ATELIER_CLUSTER", "slurm")
    if cluster == "debug":
        raise RunnerError("ATELIER_CLUSTER=debug would run the kernels inside this process; use local")
    if cluster == "slurm" and shutil.which("sbatch") is None:
        raise RunnerError("--executor submitit: no sbatch on PATH for cluster 'slurm'; "
                          "set ATELIER_CLUSTER=local to run the jobs on this machine")
    try:
        extra = yaml.safe_load(os.environ.get("ATELIER_SUBMITIT") or "{}")
    except yaml.YAMLError as err:
        raise RunnerError(f"$ATELIER_SUBMITIT is not a YAML mapping: {err}") from err
    executor = submitit.AutoExecutor(folder=Path(out) / ".submitit", cluster=cluster)
    try:
        executor.update_parameters(**{**DEFAULT_PARAMETERS, **(extra or {})})
    except (TypeError, ValueError) as err:
        raise RunnerError(f"$ATELIER_SUBMITIT: {err}") from err
    return lambda spec: SubmititWorker(executor.submit(run_in_worker, spec))
