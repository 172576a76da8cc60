"""`atelier run` end to end on the toy notebooks: parallel runs, failures, skip/force, submitit, kill."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import psutil
import pytest

from atelier import cli

DRIVER = Path(__file__).with_name("toystudy.py")


def run_cli(*argv) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(list(argv))
    return code, out.getvalue()


def visible(study_dir: Path) -> list[Path]:
    return [p for p in study_dir.iterdir() if not p.name.startswith(".")]


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text())


@pytest.fixture(scope="module")
def batch(toy_home, tmp_path_factory):
    """One batch of a good and a failing notebook, two at a time."""
    out = tmp_path_factory.mktemp("out")
    code, text = run_cli("run", "toy_ok", "toy_fail", "--preset", "smoke", "--jobs", "2", "--out", str(out))
    return out, code, text


def test_parallel_runs_write_complete_run_dirs(batch):
    out, code, text = batch
    (ok,) = visible(out / "toy_ok")
    (failed,) = visible(out / "toy_fail")
    assert ok.name.startswith("smoke-seed0-")
    for name in ("notebook.ipynb", "params.yaml", "manifest.json", "claims.json",
                 "figures/loss.svg", "figures/loss.png", "tables/loss.csv", "tables/loss.parquet"):
        assert (ok / name).is_file(), name
    m = manifest(ok)
    assert m["status"] == "ok" and m["error"] is None
    assert m["data"] == json.loads((ok / "data.json").read_text())
    assert {"git", "python", "packages", "device"} <= set(m) and m["packages"]["papermill"]
    claims = json.loads((ok / "claims.json").read_text())
    assert [c["name"] for c in claims] == ["loss_falls"] and claims[0]["holds"]
    # both ran at once: each started before the other finished
    f = manifest(failed)
    assert m["started"] < f["finished"] and f["started"] < m["finished"]
    assert not [p for p in (out / "toy_ok").iterdir() if p.name.startswith(".")]


def test_a_failed_run_keeps_its_notebook_and_error_and_the_batch_exits_nonzero(batch):
    out, code, text = batch
    assert code == 1
    (failed,) = visible(out / "toy_fail")
    m = manifest(failed)
    assert m["status"] == "failed"
    assert (m["error"]["exception"], m["error"]["message"]) == ("ValueError", "boom")
    nb = nbformat.read(failed / "notebook.ipynb", as_version=4)
    raising = [i for i, c in enumerate(nb.cells) if 'raise ValueError("boom")' in c.source]
    assert raising == [m["error"]["cell"]]
    assert "ok      toy_ok/" in text and "FAILED  toy_fail/" in text


def test_finished_runs_are_skipped_and_force_replaces_them(batch):
    out, _, _ = batch
    (ok,) = visible(out / "toy_ok")
    before = manifest(ok)

    code, text = run_cli("run", "toy_ok", "--preset", "smoke", "--out", str(out))
    assert code == 0 and "skip    toy_ok/" in text
    assert manifest(ok) == before

    code, text = run_cli("run", "toy_ok", "--preset", "smoke", "--out", str(out), "--force")
    assert code == 0 and "ok      toy_ok/" in text
    assert visible(out / "toy_ok") == [ok]
    after = manifest(ok)
    assert after["status"] == "ok" and after["started"] > before["finished"]
    assert [p.name for p in (out / "toy_ok").iterdir()] == [ok.name]  # no .tmp- or .old- left


def test_submitit_local_executor_runs_the_same_path(toy_home, tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_CLUSTER", "local")
    code, text = run_cli("run", "toy_ok", "--preset", "smoke", "--seed", "1", "--executor", "submitit",
                         "--out", str(tmp_path))
    assert code == 0, text
    (run,) = visible(tmp_path / "toy_ok")
    assert run.name.startswith("smoke-seed1-") and manifest(run)["status"] == "ok"
    assert (run / "claims.json").is_file()
    assert list((tmp_path / ".submitit").glob("*_log.out"))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_run_kills_the_kernel_and_keeps_the_partial_run_marked_failed(toy_home, tmp_path, sig):
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), "run", "toy_slow", "--preset", "smoke", "--out", str(tmp_path),
         "--progress-every", "0.3"],
        env={**os.environ, "ATELIER_HOME": str(toy_home)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    seen = []
    for line in proc.stdout:  # wait until the kernel is inside the sleeping cell
        seen.append(line)
        if "cell 4/4" in line:
            break
    assert proc.poll() is None, "".join(seen)
    below = psutil.Process(proc.pid).children(recursive=True)  # the worker and the kernel
    assert len(below) >= 2
    proc.send_signal(sig)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == 130, "".join(seen) + rest
    (run,) = (tmp_path / "toy_slow").iterdir()  # renamed into place: no .tmp- dir left
    assert run.name.startswith("smoke-seed0-") and "kept    toy_slow/" in rest
    m = manifest(run)
    assert m["status"] == "failed" and m["error"]["exception"] == "Interrupted"
    assert m["error"]["message"].startswith("stopped by SIGTERM")  # the batch's cancel, whichever signal it got
    cells = nbformat.read(run / "notebook.ipynb", as_version=4).cells
    assert cells[m["error"]["cell"]].source == "import time\n\ntime.sleep(120)"  # the cell it was stopped in
    assert (run / "params.yaml").is_file()
    _, alive = psutil.wait_procs(below, timeout=10)
    assert alive == []


class StubbornWorker:
    """A worker that ignores cancel(), having written a table: the batch must kill it and keep the table."""

    def __init__(self, spec):
        (spec.tmp / "tables").mkdir(parents=True)
        (spec.tmp / "tables" / "half.csv").write_text("step,loss\n0,1.0\n")
        self.killed = False

    def done(self):
        return self.killed

    def failure(self):
        return "never asked"

    def cancel(self):
        pass

    def kill(self):
        self.killed = True


def test_a_worker_that_must_be_killed_still_leaves_its_partial_run_marked_failed(tmp_path, monkeypatch):
    from atelier.runner import batch as batch_module
    from atelier.runner.rundir import make_spec

    monkeypatch.setattr(batch_module, "GRACE_S", 0.2)
    specs = [make_spec("toy", tmp_path / "toy.ipynb", {"preset": "smoke", "seed": s}, {}, tmp_path / "out")
             for s in (0, 1)]
    workers = []

    def start(spec):  # the second run cannot be started: the batch stops the first one
        if workers:
            raise RuntimeError("no slot")
        workers.append(StubbornWorker(spec))
        return workers[0]

    stream = io.StringIO()
    with pytest.raises(RuntimeError, match="no slot"):
        batch_module.run_batch(specs, jobs=2, start=start, stream=stream)
    assert workers[0].killed
    (run,) = (tmp_path / "out" / "toy").iterdir()  # the first, renamed into place; the second left nothing
    assert run == specs[0].final and (run / "tables" / "half.csv").read_text().startswith("step,loss")
    m = manifest(run)
    assert (m["status"], m["error"]["exception"], m["error"]["cell"]) == ("failed", "Interrupted", None)
    assert f"kept    {specs[0].label}" in stream.getvalue()
