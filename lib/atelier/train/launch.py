"""launch: run a training on several devices or nodes as a subprocess, never inside a kernel.

Multi-process training cannot live in a notebook, so ``launch`` writes a JSON spec and runs
``python -m atelier.train.launch_entry <spec.json>`` under ``torchrun`` (one machine) or
``srun`` (inside a Slurm allocation, when SLURM_JOB_ID is set). Each process rebuilds the
same job from the spec: a *builder*, an importable ``"module:function"`` that takes the
study's config and returns a TrainingJob (model, objective, data), called after seeding
with the TrainConfig's seed so that every process starts from the same weights. Lightning's
DDP or FSDP strategy then trains it exactly as ``fit`` does on one device, and ``launch``
returns the run's artefacts: the metrics table and, if asked, the checkpoint.

The builder's config must be a dataclass (e.g. a study Config) or a JSON-able dict. Batch
sizes in it are per device: with ``devices=N`` the global batch is N times larger. As usual
with Lightning, the training loader is sharded by a shuffling DistributedSampler seeded with
the run's seed, so each global batch is a slice of one permutation of the training set.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import lightning as L
import polars as pl
import torch

from atelier.train.config import TrainConfig
from atelier.train.objectives import Objective

STRATEGIES = ("ddp", "fsdp")


@dataclasses.dataclass
class TrainingJob:
    """What a builder returns: the model, its objective, and dataloaders or a datamodule."""

    model: torch.nn.Module
    objective: Objective
    train: Any = None
    val: Any = None
    datamodule: Any = None


@dataclasses.dataclass(frozen=True)
class LaunchResult:
    """Artefacts of a launched run."""

    metrics: pl.DataFrame
    metrics_path: Path
    checkpoint: Path | None
    log: Path


def import_object(path: str) -> Any:
    """The object named ``"package.module:attribute"``."""
    module, _, attribute = path.partition(":")
    if not module or not attribute:
        raise ValueError(f"{path!r} is not of the form 'package.module:attribute'")
    return getattr(importlib.import_module(module), attribute)


def _qualified_name(obj: Any) -> str:
    return f"{type(obj).__module__}:{type(obj).__qualname__}"


def config_to_json(config: Any) -> dict:
    """{"class": "module:Class" or None, "fields": {...}} for a dataclass or a dict."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {"class": _qualified_name(config), "fields": dataclasses.asdict(config)}
    if isinstance(config, dict):
        return {"class": None, "fields": config}
    raise TypeError(f"a launched job's config must be a dataclass or a dict, got {type(config).__name__}")


def config_from_json(spec: dict) -> Any:
    """Inverse of config_to_json (a StudyConfig is rebuilt through its validating override)."""
    if spec["class"] is None:
        return spec["fields"]
    cls = import_object(spec["class"])
    from atelier.studies.config import StudyConfig
    if issubclass(cls, StudyConfig):
        return cls().override(**spec["fields"])
    return cls(**spec["fields"])


def build_job(builder: str, config: Any, seed: int) -> TrainingJob:
    """Seed every generator with ``seed``, then call the builder ``"module:function"`` on ``config``."""
    L.seed_everything(seed, verbose=False)
    job = import_object(builder)(config)
    if not isinstance(job, TrainingJob):
        raise TypeError(f"builder {builder!r} returned {type(job).__name__}, not a TrainingJob")
    return job


def _command(spec_path: Path, devices: int, nodes: int) -> list[str]:
    entry = [sys.executable, "-m", "atelier.train.launch_entry", str(spec_path)]
    if "SLURM_JOB_ID" in os.environ and shutil.which("srun"):
        return ["srun", f"--nodes={nodes}", f"--ntasks-per-node={devices}", *entry]
    if nodes > 1:
        raise ValueError(f"nodes={nodes} needs a Slurm allocation (SLURM_JOB_ID is not set); "
                         "without Slurm use nodes=1")
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={devices}",
            *entry[1:]]


def launch(builder: str, config: Any, train: TrainConfig, devices: int = 1, nodes: int = 1,
           strategy: str = "ddp", run_dir: str | Path | None = None, name: str = "train",
           peak_flops: float | None = None, timeout: float | None = None) -> LaunchResult:
    """Train ``builder(config)`` with ``train`` on ``devices`` per node x ``nodes`` in a subprocess.

    Writes ``<run>/launch/<name>.json`` (the spec) and ``<name>.log`` (the processes' output),
    and the metrics to ``<run>/metrics/<name>.parquet``. Raises with the log's tail on failure.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; valid strategies: {', '.join(STRATEGIES)}")
    if devices < 1 or nodes < 1:
        raise ValueError(f"devices={devices} and nodes={nodes} must both be >= 1")
    if run_dir is None:
        from atelier.report import current_run
        run_dir = current_run().path
    run_dir = Path(run_dir).resolve()
    launch_dir = run_dir / "launch"
    launch_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "builder": builder, "config": config_to_json(config), "train": dataclasses.asdict(train),
        "devices": devices, "nodes": nodes, "strategy": strategy, "run_dir": str(run_dir), "name": name,
        "peak_flops": peak_flops,
    }
    spec_path = launch_dir / f"{name}.json"
    spec_path.write_text(json.dumps(spec, indent=1))
    log_path = launch_dir / f"{name}.log"
    with log_path.open("w") as log:
        # a session of its own, so that a timeout stops the launcher and every worker it started
        process = subprocess.Popen(_command(spec_path, devices, nodes), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait()
            raise RuntimeError(f"launched training {name!r} ran past {timeout} s; log {log_path}") from None
    if returncode != 0:
        tail = "\n".join(log_path.read_text().splitlines()[-30:])
        raise RuntimeError(f"launched training {name!r} failed (exit {returncode}); log {log_path}:\n{tail}")
    metrics_path = run_dir / "metrics" / f"{name}.parquet"
    checkpoint = run_dir / "checkpoints" / f"{name}.ckpt"
    return LaunchResult(metrics=pl.read_parquet(metrics_path), metrics_path=metrics_path,
                        checkpoint=checkpoint if train.checkpoint else None, log=log_path)
