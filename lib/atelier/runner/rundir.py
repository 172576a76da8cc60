"""Run directories: stable ids, temporary siblings renamed into place, the manifest.

A run of study ``s`` lives in ``<out>/s/<run_id>/`` with run_id
``<preset>-seed<N>-<8 hex>``, the hex being a hash of the resolved parameters: the study,
the notebook parameters and the resolved Config (so ``--set steps=200`` where 200 is the
default names the same run as no override at all). While running, everything is written to
``<out>/s/.tmp-<run_id>-<pid>`` (pid of the submitting process); only a finished run, ok or
failed, carries the final name. A run stopped before it finished (a signal, a dead worker) is
renamed into place as failed with what it had written so far: a killed run loses nothing, and
``is_done`` still sends it back to be run again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

import yaml

from atelier.paths import repo_root

PACKAGES = ("torch", "lightning", "papermill", "polars", "altair")


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs to execute one notebook run (picklable, JSON-able)."""

    study: str
    notebook: str  # path of the source notebook
    parameters: dict  # notebook parameters, run_dir excluded
    config: dict  # the resolved study Config, for params.yaml and the run id
    out: str  # <out>/<study>
    run_id: str
    token: int  # pid of the submitting process; names the temporary dir

    @property
    def final(self) -> Path:
        return Path(self.out) / self.run_id

    @property
    def tmp(self) -> Path:
        return Path(self.out) / f".tmp-{self.run_id}-{self.token}"

    @property
    def label(self) -> str:
        return f"{self.study}/{self.run_id}"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "RunSpec":
        return cls(**json.loads(text))


def run_id(study: str, parameters: dict, config: dict) -> str:
    """``<preset>-seed<N>-<8 hex>``: readable, and equal for equal resolved parameters."""
    knobs = {k: v for k, v in parameters.items() if k != "overrides"}  # the config holds them
    blob = json.dumps({"study": study, "parameters": knobs, "config": config}, sort_keys=True, default=str)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:8]
    return f"{parameters['preset']}-seed{parameters['seed']}-{digest}"


def make_spec(study: str, notebook: Path, parameters: dict, config: dict, out: Path) -> RunSpec:
    return RunSpec(
        study=study, notebook=str(notebook), parameters=parameters, config=config,
        out=str(Path(out).resolve() / study), run_id=run_id(study, parameters, config), token=os.getpid(),
    )


def read_manifest(run_dir: Path) -> dict | None:
    f = Path(run_dir) / "manifest.json"
    return json.loads(f.read_text()) if f.exists() else None


def is_done(spec: RunSpec) -> bool:
    """True when an identical run already finished successfully."""
    manifest = read_manifest(spec.final)
    return manifest is not None and manifest.get("status") == "ok"


def write_params(spec: RunSpec, directory: Path) -> None:
    doc = {"study": spec.study, "notebook": spec.notebook, "parameters": spec.parameters, "config": spec.config}
    (directory / "params.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def _git() -> dict:
    """The checkout's commit and whether tracked files changed (None where git can't say)."""
    def git(*args):
        done = subprocess.run(["git", "-C", str(repo_root()), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    try:
        sha = git("rev-parse", "--verify", "-q", "HEAD")
        status = git("status", "--porcelain", "--untracked-files=no")
    except FileNotFoundError:  # no git binary
        return {"sha": None, "dirty": None}
    return {"sha": sha or None, "dirty": None if status is None else bool(status)}


def _device() -> str:
    """'cpu' or the name of the first CUDA device this process sees.

    torch is asked only where an NVIDIA driver is present: importing it costs seconds per run.
    """
    if not Path("/proc/driver/nvidia").exists() and shutil.which("nvidia-smi") is None:
        return "cpu"
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"


@functools.cache
def environment() -> dict:
    """Provenance recorded in every manifest: git, python, key packages, device, host."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"git": _git(), "python": platform.python_version(), "packages": versions,
            "device": _device(), "host": platform.node()}


def write_manifest(spec: RunSpec, directory: Path, status: str, error: dict | None,
                   started: str, duration_s: float) -> dict:
    """Write manifest.json; the data manifests come from the notebook's optional data.json."""
    data_file = directory / "data.json"
    manifest = {
        "study": spec.study, "run_id": spec.run_id, "status": status, "error": error,
        "started": started, "finished": now(), "duration_s": round(duration_s, 3),
        **environment(),
        "data": json.loads(data_file.read_text()) if data_file.exists() else [],
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def finalize(spec: RunSpec) -> Path:
    """Rename the temporary dir to the final name, replacing an earlier run of the same id."""
    final = spec.final
    if final.exists():
        old = final.with_name(f".old-{spec.run_id}-{os.getpid()}")
        final.rename(old)
        spec.tmp.rename(final)
        shutil.rmtree(old)
    else:
        spec.tmp.rename(final)
    return final


def close_unfinished(spec: RunSpec, exception: str, message: str, started: str, duration_s: float) -> None:
    """Record a run that stopped before finishing as failed and rename it into place, outputs kept.

    Does nothing where the run has already renamed itself (finished, or closed by its worker).
    """
    if not spec.tmp.exists():
        return
    error = {"exception": exception, "message": message, "cell": running_cell(spec.tmp / "notebook.ipynb")}
    try:
        write_manifest(spec, spec.tmp, "failed", error, started, duration_s)
        finalize(spec)
    except FileNotFoundError:  # renamed by its worker meanwhile
        pass


def cell_states(path: Path) -> list[str | None]:
    """Papermill's status of each cell ('pending', 'running', ...) in a (partially) written notebook.

    Raises OSError or ValueError where the file is missing or caught mid-write.
    """
    cells = json.loads(Path(path).read_text())["cells"]
    return [cell.get("metadata", {}).get("papermill", {}).get("status") for cell in cells]


def running_cell(path: Path) -> int | None:
    """Index of the cell papermill marked running in a partially written notebook, else None."""
    try:
        states = cell_states(path)
    except (OSError, ValueError, KeyError):
        return None
    return states.index("running") if "running" in states else None


def remove_tmp(spec: RunSpec) -> None:
    shutil.rmtree(spec.tmp, ignore_errors=True)
