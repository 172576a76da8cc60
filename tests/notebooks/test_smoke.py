"""Every study notebook runs end to end at the smoke preset through `atelier run`.

Each run must finish with status ok and leave the run directory DESIGN.md promises: the executed
notebook, params, manifest, claims (computed; at smoke they need not hold), figures and tables.
"""

import json
import os
import subprocess
import sys

import pytest

from atelier.studies import available_studies

STUDIES = [s.name for s in available_studies()]


@pytest.mark.notebook
@pytest.mark.parametrize("study", STUDIES)
def test_notebook_runs_at_smoke_preset(study, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "atelier", "run", study, "--preset", "smoke", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},  # two test workers share two cores
    )
    assert proc.returncode == 0, f"atelier run {study} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    runs = [p for p in (tmp_path / study).iterdir() if not p.name.startswith(".")]
    assert len(runs) == 1, runs
    run = runs[0]
    assert run.name.startswith("smoke-seed0-")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "ok"
    for name in ("notebook.ipynb", "params.yaml", "claims.json"):
        assert (run / name).is_file(), name
    claims = json.loads((run / "claims.json").read_text())
    assert claims and all({"name", "value", "threshold", "holds"} <= set(c) for c in claims)
    assert list((run / "figures").glob("*.svg")) and list((run / "figures").glob("*.png"))
    assert list((run / "tables").glob("*.parquet"))
