"""The gallery: runs.parquet has one row per run dir, index.html parses and shows runs, claims, figures."""

import json
from html.parser import HTMLParser
from pathlib import Path

import polars as pl

from atelier.report import Claim, save_claims
from atelier.report.gallery import SCHEMA, build
from atelier.runner.rundir import finalize, make_spec, write_manifest, write_params

TRICKY = "<script>alert('x')</script>"


class Page(HTMLParser):
    """Text, tags and link targets of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.tags, self.links, self.chunks = [], [], []
        self.feed(text)
        self.close()
        self.text = " ".join(self.chunks)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v for k, v in attrs if k in ("href", "src")]

    def handle_data(self, data):
        self.chunks.append(data)


def make_run(out: Path, study: str, seed: int, status: str, claims: list[Claim]) -> Path:
    """A run dir as the runner leaves it, written with the runner's own helpers."""
    spec = make_spec(study, Path("nb.ipynb"), {"preset": "smoke", "seed": seed, "overrides": {}}, {"steps": 2}, out)
    spec.tmp.mkdir(parents=True)
    write_params(spec, spec.tmp)
    if claims:
        save_claims(claims, spec.tmp)
    for sub, names in (("figures", ["loss.png", "loss.svg"]), ("tables", ["optima.csv"])):
        (spec.tmp / sub).mkdir()
        for name in names:
            (spec.tmp / sub / name).write_bytes(b"x")
    error = None if status == "ok" else {"exception": "ValueError", "message": "bad <input>", "cell": 3}
    write_manifest(spec, spec.tmp, status, error, "2024-01-01T00:00:00+00:00", 12.5)
    return finalize(spec)


def test_report_indexes_every_run_dir_and_nothing_else(tmp_path):
    claims = [Claim("falls", "loss falls", 0.5, "<", 1.0, "loss"), Claim(TRICKY, "never", float("nan"), ">", 0.0)]
    ok = make_run(tmp_path, "lacy", 0, "ok", claims)
    failed = make_run(tmp_path, "lacy", 1, "failed", [])
    other = make_run(tmp_path, "completep", 0, "ok", [Claim("transfer", "optimum moves < 0.5", 0.2, "<", 0.5)])
    (tmp_path / "lacy" / ".tmp-smoke-seed0-00000000-1").mkdir()  # unfinished: not a run
    (tmp_path / "lacy" / "interactive-20240101-000000" / "figures").mkdir(parents=True)  # no manifest

    table_path, index_path, n = build(tmp_path)

    table = pl.read_parquet(table_path)
    assert n == 3 and table.height == 3 and dict(table.schema) == SCHEMA
    rows = {r["path"]: r for r in table.iter_rows(named=True)}
    assert set(rows) == {str(ok), str(failed), str(other)}
    r = rows[str(ok)]
    assert (r["study"], r["run_id"], r["preset"], r["seed"], r["status"]) == ("lacy", ok.name, "smoke", 0, "ok")
    assert (r["claims_held"], r["claims_total"], r["duration_s"]) == (1, 2, 12.5)
    assert json.loads(r["params"]) == {"preset": "smoke", "seed": 0, "overrides": {}}
    assert (rows[str(failed)]["status"], rows[str(failed)]["claims_total"]) == ("failed", 0)

    page = Page(index_path.read_text())
    assert "script" not in page.tags  # run content is escaped, never markup
    for text in ("falls", TRICKY, "transfer", "loss falls", "bad <input>", ok.name, failed.name):
        assert text in page.text, text
    assert f"lacy/{ok.name}/figures/loss.png" in page.links
    assert f"lacy/{ok.name}/figures/loss.svg" in page.links
    assert f"lacy/{ok.name}/tables/optima.csv" in page.links
    assert all(not link.startswith(("http:", "https:", "//")) for link in page.links)


def test_report_of_an_empty_out_dir_is_empty_but_valid(tmp_path):
    table_path, index_path, n = build(tmp_path / "fresh")
    assert n == 0 and pl.read_parquet(table_path).height == 0
    assert "0 runs" in Page(index_path.read_text()).text
