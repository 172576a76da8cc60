"""Execute one run: papermill in a fresh ``atelier`` kernel, then manifest and rename.

``run_one`` is the unit of work for every executor. It writes into the run's temporary dir
(created by the submitter), records ok or failed with an error summary, and renames the dir
into place. ``run_in_worker`` wraps it for a dedicated process (a local worker or a submitit
job): on SIGINT or SIGTERM it kills the kernel and everything below it, then renames the run
into place marked failed, with the notebook, tables and figures written so far, and exits: an
interrupted run leaves no process behind and loses nothing it had written.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import psutil

from atelier.runner.rundir import RunSpec, cell_states, close_unfinished, finalize, now, write_manifest, write_params

KERNEL = "atelier"
KERNEL_START_TIMEOUT_S = 300  # papermill's 60 s is too short on a loaded shared machine


def run_one(spec: RunSpec) -> dict:
    """Execute the notebook of ``spec`` into its run dir and return the manifest."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    tmp = spec.tmp
    tmp.mkdir(parents=True, exist_ok=True)
    write_params(spec, tmp)
    started, t0 = now(), time.monotonic()
    error = None
    try:
        papermill.execute_notebook(
            spec.notebook, str(tmp / "notebook.ipynb"),
            parameters={**spec.parameters, "run_dir": str(tmp)},
            kernel_name=KERNEL, cwd=str(Path(spec.notebook).parent), progress_bar=False,
            start_timeout=KERNEL_START_TIMEOUT_S,
        )
    except PapermillExecutionError as err:
        error = {"exception": err.ename, "message": err.evalue,
                 "cell": _failed_cell(tmp / "notebook.ipynb", err.cell_index), "execution_count": err.exec_count}
    except Exception as err:  # kernel died, timed out, notebook unreadable: the run failed
        error = {"exception": type(err).__name__, "message": str(err), "cell": None}
    manifest = write_manifest(spec, tmp, "failed" if error else "ok", error, started, time.monotonic() - t0)
    finalize(spec)
    return manifest


def _failed_cell(path: Path, fallback: int) -> int:
    """Index of the failed cell in the saved notebook (papermill inserts error-marker cells above it)."""
    failed = [i for i, state in enumerate(cell_states(path)) if state == "failed"]
    return failed[0] if failed else fallback


def _abort_handler(spec: RunSpec, started: str, t0: float):
    def abort(signum, frame):
        for child in psutil.Process().children(recursive=True):  # the kernel and its children
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        close_unfinished(spec, "Interrupted", f"stopped by {signal.Signals(signum).name}; the outputs written "
                         "so far are kept", started, time.monotonic() - t0)
        os._exit(128 + signum)

    return abort


def run_in_worker(spec: RunSpec) -> dict:
    """``run_one`` in a process of its own, which an interrupt tears down cleanly."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _abort_handler(spec, now(), time.monotonic()))
    return run_one(spec)
