"""`python -m bench [--quick] [--only SECTION ...] [--out DIR]`: run the benchmarks and write
<out>/results.parquet and <out>/summary.md (default out: outputs/bench/<timestamp>/)."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import platform
import traceback
from pathlib import Path

import polars as pl
import torch

from atelier.paths import outputs_root
from bench import targets

SECTIONS = ["peak", "train_step", "masked_loss", "samplers", "runner_overhead", "study_kernels"]


def summary(frame: pl.DataFrame) -> str:
    lines = [f"# atelier benchmarks, {dt.datetime.now():%Y-%m-%d %H:%M}", "",
             f"device: {'cuda ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu'}; "
             f"{platform.processor() or platform.machine()}; torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads", "", *targets.markdown(targets.check(frame))]
    for (section,), part in frame.group_by("section", maintain_order=True):
        lines += [f"## {section}", "", "| name | metric | value | spread | unit | note |", "|---|---|---|---|---|---|"]
        for r in part.iter_rows(named=True):
            lines.append(f"| {r['name']} | {r['metric']} | {r['value']:.4g} | {r['spread']:.2g} | {r['unit']} | {r['note']} |")
        lines.append("")
    return "\n".join(lines)


def write(rows: list[dict], out: str | Path | None = None) -> Path:
    folder = Path(out) if out else outputs_root() / "bench" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True, exist_ok=True)
    frame = pl.DataFrame(rows, schema={"section": pl.String, "name": pl.String, "metric": pl.String,
                                       "value": pl.Float64, "unit": pl.String, "spread": pl.Float64,
                                       "note": pl.String})
    frame.write_parquet(folder / "results.parquet")
    text = summary(frame)
    (folder / "summary.md").write_text(text)
    print(text)
    print(f"\nwritten to {folder}")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description="atelier benchmarks (not tests)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: a wiring check")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    rows, failed = [], []
    for section in args.only:
        print(f"[bench] {section} ...", flush=True)
        try:
            rows += importlib.import_module(f"bench.{section}").run(quick=args.quick)
        except Exception:
            failed.append(section)
            traceback.print_exc()
    write(rows, args.out)
    if failed:
        print(f"[bench] failed sections: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
