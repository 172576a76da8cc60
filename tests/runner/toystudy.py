"""Throwaway studies that obey the notebook contract, for exercising the runner.

``write_home(root)`` writes ``root/notebooks/`` with a tiny Config module and three
notebooks: toy_ok (a figure, a table, a claim, a data.json), toy_fail (raises in its third
code cell) and toy_slow (sleeps, to be interrupted). ``studies()`` returns registry entries
for them; point ``$ATELIER_HOME`` at ``root``. Run as a script, this file is the ``atelier``
command with the toy studies registered (for tests that signal a runner process).
"""

import importlib.util
import sys
from pathlib import Path

import nbformat

from atelier.studies import Study

CONFIG = '''
import dataclasses
from typing import ClassVar

from atelier.studies.config import StudyConfig


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    steps: int = 3
    scale: float = 1.0
    label: str = "toy"
    widths: tuple[int, ...] = (8, 16)
    PRESETS: ClassVar[dict] = {"smoke": {"steps": 2}, "gpu": {"steps": 100}}
'''

PARAMETERS = '''preset: str = "cpu"  # smoke | cpu | gpu
seed: int = 0  # seeds data order, initialisation and sampling
overrides: dict = {}  # Config fields to change, e.g. {"steps": 200}
run_dir: str = ""  # set by the runner; empty = outputs/<study>/interactive-<time>'''

SETUP = '''from toy_config import Config

cfg = Config.preset(preset).override(**overrides)
cfg'''

OK_CELLS = [
    '''import json

import altair as alt
import polars as pl

from atelier import report

run = report.open_run("toy_ok", run_dir)
df = pl.DataFrame({"step": list(range(cfg.steps)), "loss": [cfg.scale / (s + 1) for s in range(cfg.steps)]})
chart = alt.Chart(df.to_pandas()).mark_line().encode(
    x=alt.X("step", title="step"), y=alt.Y("loss", title="loss (nats)")).properties(title="toy loss")
report.save_figure(chart, "loss")
report.save_table(df, "loss")
(run.path / "data.json").write_text(json.dumps([{"name": "toy", "sha256": "0" * 64}]))''',
    '''report.save_claims([report.Claim("loss_falls", "the last loss is below the first", value=df["loss"][-1] / df["loss"][0],
                                   op="<", threshold=1.0, figure="loss")])''',
]

NOTEBOOKS = {
    "toy_ok": (91, OK_CELLS),
    "toy_fail": (92, ['raise ValueError("boom")', 'print("never reached")']),
    "toy_slow": (93, ["import time\n\ntime.sleep(120)"]),
}


class ToyStudy(Study):
    """A registry entry whose Config lives next to its notebook."""

    def config_class(self):
        spec = importlib.util.spec_from_file_location("toy_config", self.notebook.parent / "toy_config.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.Config


def notebook(cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "atelier", "display_name": "atelier (Python 3)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def write_home(root: Path) -> Path:
    notebooks = Path(root) / "notebooks"
    notebooks.mkdir(parents=True, exist_ok=True)
    (notebooks / "toy_config.py").write_text(CONFIG)
    for name, (number, cells) in NOTEBOOKS.items():
        nbformat.write(notebook(cells), notebooks / f"{number:02d}_{name}.ipynb")
    return Path(root)


def studies() -> dict[str, ToyStudy]:
    return {name: ToyStudy(number, name, f"Toy study {name}", in_all=name != "toy_slow")
            for name, (number, _) in NOTEBOOKS.items()}


if __name__ == "__main__":
    from atelier import studies as registry
    from atelier.cli import main

    registry.STUDIES.update(studies())
    sys.exit(main(sys.argv[1:]))
