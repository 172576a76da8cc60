"""Entry point of a launched training process: ``python -m atelier.train.launch_entry SPEC.json``.

torchrun or srun starts one of these per device. Each rebuilds the job from the spec that
``atelier.train.launch`` wrote and trains it with Lightning's DDP or FSDP strategy; rank 0
writes the metrics (and the checkpoint when the TrainConfig asks for one).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from torch.distributed.elastic.multiprocessing.errors import record

from atelier.train.config import TrainConfig
from atelier.train.fit import fit_on_devices
from atelier.train.launch import build_job, config_from_json


@record  # torchrun then reports the worker's exception in its failure summary
def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    config = TrainConfig(**spec["train"])
    job = build_job(spec["builder"], config_from_json(spec["config"]), config.seed)
    fit_on_devices(config, job.model, job.objective, job.train, job.val, job.datamodule,
                   run_dir=spec["run_dir"], name=spec["name"], peak_flops=spec["peak_flops"],
                   devices=spec["devices"], num_nodes=spec["nodes"], strategy=spec["strategy"])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m atelier.train.launch_entry SPEC.json")
    main(sys.argv[1])
