"""The current run directory: where figures, tables, metrics and claims of a notebook go.

A notebook calls ``open_run(study, run_dir)`` once, with its ``run_dir`` parameter. The
runner sets ``run_dir`` (a temporary sibling of the final run dir); interactive use leaves it
empty and gets ``outputs/<study>/interactive-<timestamp>``. Library code asks for
``current_run()`` and never needs a path passed around.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from atelier.paths import outputs_root

SUBDIRS = ("figures", "tables", "metrics")


@dataclasses.dataclass(frozen=True)
class Run:
    """A run directory and its standard sub-folders (created on open)."""

    study: str
    path: Path

    @property
    def figures(self) -> Path:
        return self.path / "figures"

    @property
    def tables(self) -> Path:
        return self.path / "tables"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics"


_current: Run | None = None


def open_run(study: str, run_dir: str | Path = "") -> Run:
    """Make ``run_dir`` (or a fresh interactive dir for ``study``) the current run and return it."""
    global _current
    if run_dir:
        path = Path(run_dir)
    else:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = outputs_root() / study / f"interactive-{stamp}"
    for sub in SUBDIRS:
        (path / sub).mkdir(parents=True, exist_ok=True)
    _current = Run(study=study, path=path.resolve())
    return _current


def current_run() -> Run:
    """The run opened last; outside any notebook, a scratch interactive run."""
    return _current if _current is not None else open_run("scratch")
