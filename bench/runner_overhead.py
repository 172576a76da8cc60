"""Runner: wall time of N trivial notebooks run serially vs with --jobs 2, and the overhead of a
run beyond its kernel's start-up (kernel start measured alone with jupyter_client). A run's cost
is its marginal time in a serial batch (N runs minus one run, per extra run); what one
``atelier run`` pays once whatever the batch size is reported apart.

The trivial study lives in a temporary checkout (ATELIER_HOME) holding one notebook that obeys
the contract and a Config module; nothing in the real notebooks/ or outputs/ is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat

from bench.common import row, time_repeats

PARAMETERS = textwrap.dedent('''\
    preset: str = "cpu"  # smoke | cpu | gpu
    seed: int = 0  # unused
    overrides: dict = {}  # Config fields to change
    run_dir: str = ""  # set by the runner''')
BODY = "from atelier import report\nrun = report.open_run('quickstart', run_dir)\nreport.save_claims([])"


def trivial_checkout() -> Path:
    """A checkout whose quickstart notebook does nothing but open its run and save no claims."""
    root = Path(tempfile.mkdtemp(prefix="atelier-bench-runner-"))
    (root / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "atelier", "display_name": "atelier (Python 3)", "language": "python"}
    cell = nbformat.v4.new_code_cell(PARAMETERS)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell, nbformat.v4.new_code_cell(BODY)]
    nbformat.write(nb, root / "notebooks" / "00_quickstart.ipynb")
    return root


def atelier_run(root: Path, seeds: list[int], jobs: int) -> None:
    env = {**os.environ, "ATELIER_HOME": str(root)}
    grid = ",".join(map(str, seeds))
    with tempfile.TemporaryDirectory(prefix="atelier-bench-out-") as out:
        subprocess.run([sys.executable, "-m", "atelier", "run", "quickstart", "--preset", "smoke", "--grid",
                        f"seed={grid}", "--jobs", str(jobs), "--out", out, "--progress-every", "3600"],
                       env=env, check=True, capture_output=True)


def kernel_start_seconds() -> float:
    from jupyter_client.manager import start_new_kernel

    start = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="atelier")
    client.execute_interactive("import atelier.report")
    elapsed = time.perf_counter() - start
    client.stop_channels()
    manager.shutdown_kernel(now=True)
    return elapsed


def run(quick: bool = False) -> list[dict]:
    root = trivial_checkout()
    n = 2 if quick else 4
    repeats = 1 if quick else 3
    try:
        single, single_spread = time_repeats(lambda: atelier_run(root, [0], 1), repeats)
        serial, serial_spread = time_repeats(lambda: atelier_run(root, list(range(n)), 1), repeats)
        parallel, parallel_spread = time_repeats(lambda: atelier_run(root, list(range(n)), 2), repeats)
    finally:
        shutil.rmtree(root)
    kernel, kernel_spread = time_repeats(kernel_start_seconds, repeats)
    per_run = (serial - single) / (n - 1)  # the marginal cost of one more run in a batch
    return [
        row("runner", "1 trivial run", "one `atelier run`", single, "s", single_spread),
        row("runner", f"{n} trivial runs", "serial (--jobs 1)", serial, "s", serial_spread),
        row("runner", f"{n} trivial runs", "--jobs 2", parallel, "s", parallel_spread),
        row("runner", "one run", "kernel start + import atelier.report", kernel, "s", kernel_spread),
        row("runner", "one run", "overhead beyond kernel start", per_run - kernel, "s",
            note=f"target <= 2 s; a run's marginal time in a serial batch ({n} runs minus 1) less the kernel start"),
        row("runner", "batch", "fixed start-up of `atelier run`", single - per_run, "s",
            note="once per batch: interpreter, papermill import, parameter validation"),
    ]
