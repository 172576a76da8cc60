"""environment.yml (conda users) must list exactly the dependencies of pyproject.toml."""

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _normalised(specs):
    out = {}
    for spec in specs:
        req = Requirement(spec)
        out[req.name.lower().replace("_", "-")] = str(req.specifier)
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    conda_pins = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda_pins
    env_specs = [s for s in pip_section if not s.startswith("-e")]
    assert _normalised(env_specs) == _normalised(project)
