"""The gallery: ``<out>/runs.parquet`` and a static ``<out>/index.html`` over every run dir.

A run dir is ``<out>/<study>/<run_id>/`` holding a manifest.json (written by the runner);
interactive and temporary dirs are left out. The page needs no server and loads nothing from
the network: inline CSS, and links relative to ``<out>`` so the folder can be moved or
served as is. It shows, per study, the runs with their status, each run's claims (value,
threshold, holds), its figures as PNG thumbnails linking to the SVGs, and links to its tables
as CSV. Everything read from a run is HTML-escaped by the template engine.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import quote

import jinja2
import polars as pl
import yaml

from atelier.report.claims import load_claims

SCHEMA = {
    "study": pl.String, "run_id": pl.String, "preset": pl.String, "seed": pl.Int64, "params": pl.String,
    "status": pl.String, "duration_s": pl.Float64, "claims_held": pl.Int64, "claims_total": pl.Int64,
    "path": pl.String,
}

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>atelier runs</title>
<style>
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #007a3d; } .failed { color: #b00020; font-weight: bold; }
article { border-top: 1px solid #bbb; margin-top: 1.5em; }
figure { display: inline-block; margin: .5em; } figure img { width: 320px; border: 1px solid #eee; }
code { font-size: .85em; word-break: break-all; }
</style></head>
<body>
<h1>atelier runs</h1>
<p>{{ total }} runs in {{ studies|length }} studies, gathered {{ generated }}.
{% for study in studies %}<a href="#{{ study.name }}">{{ study.name }}</a>{% if not loop.last %} · {% endif %}{% endfor %}</p>
{% for study in studies %}
<section id="{{ study.name }}">
<h2>{{ study.name }}{% if study.title %}: {{ study.title }}{% endif %}</h2>
<table><thead><tr><th>run</th><th>status</th><th>duration (s)</th><th>claims held</th><th>finished</th></tr></thead><tbody>
{% for r in study.runs %}<tr><td><a href="#{{ r.anchor }}">{{ r.run_id }}</a></td><td class="{{ r.status }}">{{ r.status }}</td>
<td class="num">{{ fmt(r.duration_s) }}</td><td class="num">{{ r.claims_held }} / {{ r.claims_total }}</td><td>{{ r.finished[:19]|replace('T', ' ') }}</td></tr>
{% endfor %}</tbody></table>
{% for r in study.runs %}
<article id="{{ r.anchor }}">
<h3>{{ r.run_id }} <span class="{{ r.status }}">{{ r.status }}</span></h3>
<p>parameters <code>{{ r.params }}</code><br>
<a href="{{ r.url }}/notebook.ipynb">notebook</a> · <a href="{{ r.url }}/params.yaml">params</a> · <a href="{{ r.url }}/manifest.json">manifest</a></p>
{% if r.error %}<p class="failed">{{ r.error.exception }}{% if r.error.get('cell') is not none %} in cell {{ r.error.cell }}{% endif %}: {{ r.error.message }}</p>{% endif %}
{% if r.claims %}<table><thead><tr><th>claim</th><th>statement</th><th>value</th><th>op</th><th>threshold</th><th>holds</th><th>figure</th></tr></thead><tbody>
{% for c in r.claims %}<tr><td>{{ c.name }}</td><td>{{ c.statement }}</td><td class="num">{{ fmt(c.value) }}</td><td>{{ c.op }}</td>
<td class="num">{{ fmt(c.threshold) }}</td><td class="{{ 'ok' if c.holds else 'failed' }}">{{ 'yes' if c.holds else 'no' }}</td><td>{{ c.figure }}</td></tr>
{% endfor %}</tbody></table>{% endif %}
{% for f in r.figures %}<figure><a href="{{ f.svg }}"><img src="{{ f.png }}" alt="{{ f.name }}"></a><figcaption>{{ f.name }}</figcaption></figure>{% endfor %}
{% if r.tables %}<p>tables (CSV): {% for t in r.tables %}<a href="{{ t.csv }}">{{ t.name }}</a>{% if not loop.last %}, {% endif %}{% endfor %}</p>{% endif %}
</article>
{% endfor %}
</section>
{% endfor %}
</body></html>
"""


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _run_dirs(out: Path):
    """``<out>/<study>/<run_id>/`` dirs written by the runner, skipping hidden and other dirs."""
    for study_dir in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for run_dir in sorted(p for p in study_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if (run_dir / "manifest.json").is_file():
                yield run_dir


def _read_run(out: Path, run_dir: Path) -> dict:
    """Everything the table and the page show about one run."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    params_file = run_dir / "params.yaml"
    parameters = (yaml.safe_load(params_file.read_text()) or {}).get("parameters", {}) if params_file.exists() else {}
    claims = load_claims(run_dir)
    url = quote(run_dir.relative_to(out).as_posix())
    figures = [{"name": png.stem, "png": f"{url}/figures/{quote(png.name)}", "svg": f"{url}/figures/{quote(png.stem)}.svg"}
               for png in sorted((run_dir / "figures").glob("*.png"))]
    tables = [{"name": csv.stem, "csv": f"{url}/tables/{quote(csv.name)}"}
              for csv in sorted((run_dir / "tables").glob("*.csv"))]
    return {
        "study": run_dir.parent.name, "run_id": run_dir.name,
        "preset": parameters.get("preset"), "seed": parameters.get("seed"),
        "params": json.dumps(parameters, sort_keys=True), "status": manifest.get("status"),
        "duration_s": manifest.get("duration_s"),
        "claims_held": sum(bool(c.get("holds")) for c in claims), "claims_total": len(claims),
        "path": str(run_dir),
        "finished": manifest.get("finished") or "", "error": manifest.get("error"), "claims": claims,
        "figures": figures, "tables": tables, "url": url, "anchor": f"{run_dir.parent.name}--{run_dir.name}",
    }


def _titles() -> dict[str, str]:
    from atelier.studies import STUDIES

    return {name: s.title for name, s in STUDIES.items()}


def build(out: Path) -> tuple[Path, Path, int]:
    """Rebuild ``out``/runs.parquet and ``out``/index.html; return both paths and the run count."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    runs = [_read_run(out, d) for d in _run_dirs(out)]
    table = out / "runs.parquet"
    pl.DataFrame([{k: r[k] for k in SCHEMA} for r in runs], schema=SCHEMA).write_parquet(table)

    titles = _titles()
    studies = []
    for name in sorted({r["study"] for r in runs}):
        mine = sorted((r for r in runs if r["study"] == name), key=lambda r: r["finished"], reverse=True)
        studies.append({"name": name, "title": titles.get(name, ""), "runs": mine})
    env = jinja2.Environment(autoescape=True)
    page = env.from_string(TEMPLATE).render(
        studies=studies, total=len(runs), fmt=_fmt,
        generated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
    index = out / "index.html"
    index.write_text(page)
    return table, index, len(runs)
