"""Run many notebook runs, up to ``jobs`` at once, with quiet live progress and clean interrupts.

Each run executes in a worker of its own (a local process here, a submitit job in
``submit``); a worker is anything with ``done()``, ``failure()``, ``cancel()`` and ``kill()``. The
batch prints one line when a run starts and one when it ends, and every ``progress_every``
seconds one status line per active run, read from the partially written output notebook
(papermill saves it as each cell starts). Skips runs that already finished ok unless
``force``. On SIGINT or SIGTERM it stops the workers (which kill their kernels), keeps what
each unfinished run had written under its final name, marked failed, and raises
KeyboardInterrupt.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from pathlib import Path
from typing import Callable, Protocol, TextIO

from atelier.runner.rundir import RunSpec, cell_states, close_unfinished, is_done, now, read_manifest, remove_tmp

POLL_S = 0.2
GRACE_S = 10.0


class Worker(Protocol):
    """A run executing somewhere: a local process or a submitit job."""

    def done(self) -> bool: ...

    def failure(self) -> str: ...  # why it ended without renaming its run dir into place

    def cancel(self) -> None: ...  # ask it to stop: it kills its kernel, closes its run as interrupted

    def kill(self) -> None: ...  # stop it now


class LocalWorker:
    """One run in a forked process of its own, logging to runner.log.

    The batch imports papermill once and forks a worker per run, so a run does not pay for a
    fresh interpreter and papermill's imports (about 1.5 s); the fork still isolates each run,
    and its own session lets the batch, not the terminal's Ctrl-C, stop it in order.
    """

    def __init__(self, spec: RunSpec):
        import papermill  # noqa: F401  (imported before the fork: every worker inherits it)

        self.proc = _FORK.Process(target=_worker_main, args=(spec.to_json(), str(spec.tmp / "runner.log")),
                                  name=f"atelier-run-{spec.final.name}")
        self.proc.start()

    def done(self) -> bool:
        return not self.proc.is_alive()

    def failure(self) -> str:
        return f"worker exited with code {self.proc.exitcode} before finishing (see runner.log)"

    def cancel(self) -> None:
        """Ask the worker to stop; it kills its kernel and closes its run as interrupted."""
        if self.proc.is_alive():
            os.kill(self.proc.pid, signal.SIGTERM)

    def kill(self) -> None:
        if self.proc.is_alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.join()


_FORK = multiprocessing.get_context("fork")


def _worker_main(spec_json: str, log_path: str) -> None:
    """Body of a forked worker: a session of its own, stdout and stderr to runner.log, then the run."""
    from atelier.runner.execute import run_in_worker

    os.setsid()
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    for fd, target in ((log, 1), (log, 2), (null, 0)):
        os.dup2(fd, target)
    os.close(log)
    os.close(null)
    manifest = run_in_worker(RunSpec.from_json(spec_json))
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(0 if manifest["status"] == "ok" else 1)


@dataclasses.dataclass
class Outcome:
    spec: RunSpec
    status: str  # ok | failed | skipped
    error: dict | None = None
    duration_s: float | None = None

    @property
    def path(self) -> Path:
        return self.spec.final


@dataclasses.dataclass
class _Active:
    spec: RunSpec
    worker: Worker
    started: str
    t0: float
    reported: float
    where: str = "starting kernel"


def progress(tmp: Path) -> str | None:
    """Where a run is, from its partially written notebook: 'cell i/n', or None if unreadable."""
    try:
        states = cell_states(tmp / "notebook.ipynb")
    except FileNotFoundError:
        return "starting kernel" if tmp.exists() else "finishing"  # else renamed into place
    except (OSError, ValueError, KeyError):  # caught mid-write
        return None
    if "running" in states:
        return f"cell {states.index('running') + 1}/{len(states)}"
    return "between cells" if "pending" in states else "finishing"


def _elapsed(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s"


def _collect(run: _Active) -> Outcome:
    """The outcome of a finished worker; a worker that died before renaming is recorded failed."""
    spec = run.spec
    close_unfinished(spec, "WorkerError", run.worker.failure(), run.started, time.monotonic() - run.t0)
    manifest = read_manifest(spec.final)
    return Outcome(spec, manifest["status"], manifest["error"], manifest["duration_s"])


def _stop(active: list[_Active], say: Callable[[str], None]) -> None:
    """Cancel every worker, kill those still alive after GRACE_S, keep what each had written.

    A cancelled worker records its run as interrupted itself; one that had to be killed is
    recorded here, so either way the partial run dir is renamed into place, marked failed.
    """
    for run in active:
        run.worker.cancel()
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline and not all(run.worker.done() for run in active):
        time.sleep(POLL_S)
    for run in active:
        run.worker.kill()
        close_unfinished(run.spec, "Interrupted", "killed by the runner after it was interrupted",
                         run.started, time.monotonic() - run.t0)
        if run.spec.final.exists():
            say(f"kept    {run.spec.label} (interrupted, marked failed) -> {run.spec.final}")


def _finish_line(outcome: Outcome) -> str:
    took = f"{outcome.duration_s:.0f}s"
    if outcome.status == "ok":
        return f"ok      {outcome.spec.label} ({took}) -> {outcome.path}"
    e = outcome.error
    where = f" in cell {e['cell']}" if e.get("cell") is not None else ""
    return f"FAILED  {outcome.spec.label} ({took}): {e['exception']}{where}: {e['message']} -> {outcome.path}"


def run_batch(specs: list[RunSpec], jobs: int = 1, force: bool = False,
              start: Callable[[RunSpec], Worker] = LocalWorker, progress_every: float = 10.0,
              stream: TextIO | None = None) -> list[Outcome]:
    """Execute ``specs`` with at most ``jobs`` workers at once; return one Outcome per spec."""
    stream = stream or sys.stdout

    def say(line: str) -> None:
        print(line, file=stream, flush=True)

    outcomes: list[Outcome] = []
    pending: deque[RunSpec] = deque()
    for spec in specs:
        if not force and is_done(spec):
            say(f"skip    {spec.label} (done: {spec.final}; --force reruns it)")
            outcomes.append(Outcome(spec, "skipped"))
        else:
            pending.append(spec)

    active: list[_Active] = []
    stop_requested = []  # set by SIGINT/SIGTERM, acted on between polls: nothing is left half-started

    def request_stop(signum, frame):
        stop_requested.append(signum)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while (pending or active) and not stop_requested:
            while pending and len(active) < max(jobs, 1):
                spec = pending.popleft()
                spec.tmp.mkdir(parents=True, exist_ok=True)
                try:
                    worker = start(spec)
                except BaseException:
                    remove_tmp(spec)
                    raise
                t0 = time.monotonic()
                active.append(_Active(spec, worker, now(), t0, t0))
                say(f"start   {spec.label}")
            for run in list(active):
                if run.worker.done():
                    active.remove(run)
                    outcome = _collect(run)
                    outcomes.append(outcome)
                    say(_finish_line(outcome))
                elif time.monotonic() - run.reported >= progress_every:
                    run.reported = time.monotonic()
                    run.where = progress(run.spec.tmp) or run.where
                    say(f"  ...   {run.spec.label}: {run.where}, {_elapsed(run.reported - run.t0)}")
            time.sleep(POLL_S)
        if stop_requested:
            say(f"interrupted: stopping {len(active)} run(s)")
            raise KeyboardInterrupt
    except BaseException:  # interrupted, or a worker could not be started: leave nothing running
        _stop(active, say)
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return outcomes
