"""The ``atelier`` command: list studies, run notebooks in batches, build the gallery, open the lab.

    atelier list [STUDY]
    atelier run STUDY... | --all  [--preset P] [--seed N] [--set k=v]... [--grid k=v1,v2]...
                                  [--jobs N] [--executor local|submitit] [--out DIR] [--force]
    atelier report [--out DIR]
    atelier lab [JUPYTER-ARGS...]
    atelier data list | data show NAME

The logic lives in ``atelier.runner`` and ``atelier.report.gallery``; this module only parses
arguments and prints. Bad input exits with code 2 and one line naming the valid choices; a
batch with a failed run exits 1; an interrupted batch exits 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

from atelier import studies
from atelier.paths import outputs_root, repo_root
from atelier.runner import RunnerError
from atelier.studies.config import PRESET_NAMES, ConfigError


def _study(name: str):
    try:
        return studies.get_study(name)
    except KeyError as err:
        raise RunnerError(err.args[0]) from err


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(repo_root()))
    except ValueError:
        return str(path)


def cmd_list(args) -> int:
    if args.study:
        return _describe(_study(args.study))
    for s in studies.STUDIES.values():
        print(f"{s.number:02d}  {s.name:<20} {s.title}")
        where = f"{_relative(s.notebook)}  presets: {', '.join(PRESET_NAMES)}" if s.notebook.exists() else "not yet available"
        print(f"    {where}{'' if s.in_all else '  (not in --all)'}")
    return 0


def _describe(study) -> int:
    from atelier.runner.params import config_class, notebook_parameters

    print(f"{study.name}: {study.title}")
    try:
        params = notebook_parameters(study)
    except RunnerError as err:
        print(f"notebook: {err}")
    else:
        print(f"notebook: {_relative(study.notebook)}\n\nnotebook parameters (--set NAME=VALUE, --grid NAME=V1,V2):")
        for p in params.values():
            print(f"  {p['name']}: {p['inferred_type_name']} = {p['default']}  # {p['help']}")
    config = config_class(study)
    print(f"\nConfig fields ({study.module}.Config; defaults are the cpu preset; set like parameters):")
    for name, type_name, default in config.describe():
        print(f"  {name}: {type_name} = {default!r}")
    print("\npresets (fields that differ from cpu):")
    for name, changes in config.PRESETS.items():
        print(f"  {name}: {', '.join(f'{k}={v!r}' for k, v in changes.items()) or '(none)'}")
    return 0


def cmd_run(args) -> int:
    from atelier.runner.batch import LocalWorker, run_batch
    from atelier.runner.params import resolve
    from atelier.runner.submit import submitit_starter

    if args.all == bool(args.studies):
        raise RunnerError("give study names or --all (not both)")
    chosen = [s for s in studies.available_studies() if s.in_all] if args.all else [_study(n) for n in args.studies]
    out = Path(args.out) if args.out else outputs_root()
    specs = [spec for s in chosen for spec in resolve(s, out, args.preset, args.seed, args.set, args.grid)]
    start = submitit_starter(out) if args.executor == "submitit" else LocalWorker
    # Kernels inherit this: --jobs runs share the cores instead of each spawning one thread per
    # core (oversubscribed OpenMP threads slow small-model training by an order of magnitude).
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // args.jobs)))
    try:
        outcomes = run_batch(specs, jobs=args.jobs, force=args.force, start=start, progress_every=args.progress_every)
    except KeyboardInterrupt:
        print("atelier: interrupted; unfinished runs were kept as they stood, marked failed", file=sys.stderr)
        return 130
    counts = {k: sum(o.status == k for o in outcomes) for k in ("ok", "failed", "skipped")}
    print(f"\n{counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped:")
    for o in outcomes:
        print(f"  {o.status:<8} {o.path}")
    return 1 if counts["failed"] else 0


def cmd_report(args) -> int:
    from atelier.report.gallery import build

    out = Path(args.out) if args.out else outputs_root()
    table, index, n = build(out)
    print(f"{n} runs -> {table}\ngallery -> {index}")
    return 0


def cmd_lab(args) -> int:
    notebooks = repo_root() / "notebooks"
    argv = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={notebooks}", *args.jupyter_args]
    os.execv(sys.executable, argv)


def cmd_data(args) -> int:
    try:
        from atelier.data import describe, list_datasets
    except ImportError as err:
        print(f"atelier data: the data package is not available yet ({err})", file=sys.stderr)
        return 1
    if args.action == "list":
        for item in list_datasets():
            print(item)
        return 0
    if not args.name:
        raise RunnerError("atelier data show needs a dataset NAME (see `atelier data list`)")
    try:
        info = describe(args.name)
    except (KeyError, ValueError) as err:
        raise RunnerError(err.args[0] if err.args else str(err)) from err
    print(info if isinstance(info, str) else yaml.safe_dump(info, sort_keys=False).rstrip())
    return 0


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atelier", description="List studies, run their notebooks in batches, build the gallery, open JupyterLab.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list the studies, or one study's parameters and Config fields")
    p.add_argument("study", nargs="?", help="a study name: show its notebook parameters and Config fields")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "run", help="execute study notebooks with papermill, one kernel per run",
        description="Execute one notebook per parameter combination into <out>/<study>/<run_id>/. "
                    "Keys of --set/--grid are notebook parameters or, else, fields of the study's Config "
                    "(see `atelier list STUDY`); values are YAML.",
    )
    p.add_argument("studies", nargs="*", metavar="STUDY", help="studies to run (see `atelier list`)")
    p.add_argument("--all", action="store_true", help="every available study that is part of the full set")
    p.add_argument("--preset", help=f"one of {', '.join(PRESET_NAMES)} (default: the notebook's, cpu)")
    p.add_argument("--seed", type=int, help="seed of data order, init and sampling (default: the notebook's, 0)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="fix a notebook parameter or Config field, e.g. --set steps=200 (repeatable)")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="sweep a key over values; several --grid give the cartesian product")
    p.add_argument("--jobs", type=_positive, default=1, help="runs executing at once (default 1)")
    p.add_argument("--executor", choices=("local", "submitit"), default="local",
                   help="local worker processes, or submitit jobs ($ATELIER_CLUSTER, default slurm)")
    p.add_argument("--out", help="root of the run dirs (default: outputs/ of the checkout, or $ATELIER_OUTPUTS)")
    p.add_argument("--force", action="store_true", help="rerun and replace runs that already finished ok")
    p.add_argument("--progress-every", type=float, default=10.0, metavar="SECONDS",
                   help="interval of the status line per active run (default 10)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="rebuild <out>/runs.parquet and the gallery <out>/index.html")
    p.add_argument("--out", help="root of the run dirs (default: outputs/ of the checkout, or $ATELIER_OUTPUTS)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("lab", help="open JupyterLab on notebooks/ (other arguments go to jupyter lab)")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("data", help="list the datasets or show one")
    p.add_argument("action", choices=("list", "show"))
    p.add_argument("name", nargs="?", help="dataset name (for show)")
    p.set_defaults(func=cmd_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.jupyter_args = extra
    try:
        return args.func(args)
    except (RunnerError, ConfigError) as err:  # bad input, named in one line
        print(f"atelier: error: {err}", file=sys.stderr)
        return 2
