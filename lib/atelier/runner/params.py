"""Resolve ``--preset/--seed/--set/--grid`` into validated run specs, before any kernel starts.

A key names a notebook parameter (read from the typed ``parameters`` cell with
``papermill.inspect_notebook``) or else a field of the study's Config, which travels in the
``overrides`` dict. Values are YAML (``--set lr=3e-4``, ``--set widths=[64,128]``); a grid
axis is a YAML flow list without brackets (``--grid widths=[64,128],[256]``), and text is
taken as is wherever the expected type is str. Each value is checked against the notebook
parameter's annotation or coerced to the Config field's type, and each combination is then
resolved with ``Config.preset(preset).override(**overrides)``, so a bad key or value fails
in one line naming the valid ones.
"""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path
from typing import Any

import papermill
import yaml

from atelier.runner import RunnerError
from atelier.runner.rundir import RunSpec, make_spec
from atelier.studies import Study
from atelier.studies.config import ConfigError, coerce

# papermill's inspector skips a line with a second '=' (as in run_dir's comment), so run_dir,
# which the runner always injects, is not required to be visible.
CONTRACT = ("preset", "seed", "overrides")
RESERVED = "run_dir"  # set by the runner
NOTEBOOK_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "dict": dict, "list": list}


def notebook_parameters(study: Study) -> dict[str, dict]:
    """The typed parameters of the study's notebook: name -> {inferred_type_name, default, help}."""
    if not study.notebook.exists():
        raise RunnerError(f"study {study.name!r} has no notebook yet (expected {study.notebook})")
    params = papermill.inspect_notebook(str(study.notebook))
    missing = [p for p in CONTRACT if p not in params]
    if missing:
        raise RunnerError(f"notebook {study.notebook} lacks the parameters {', '.join(missing)}")
    return params


def config_class(study: Study):
    try:
        return study.config_class()
    except (ImportError, AttributeError) as err:
        raise RunnerError(f"study {study.name!r}: cannot load its Config ({err})") from err


def split_assignment(text: str, flag: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise RunnerError(f"{flag} expects key=value, got {text!r}")
    return key.strip(), value


def split_values(text: str) -> list[str]:
    """The items of a grid axis as raw text: '1,2' -> ['1', '2']; '[1,2],[3]' -> ['[1,2]', '[3]']."""
    wrapped = f"[{text}]"
    try:
        node = yaml.compose(wrapped)
    except yaml.YAMLError as err:
        raise RunnerError(f"cannot read grid values {text!r}: {err.problem}") from err
    return [wrapped[item.start_mark.index:item.end_mark.index] for item in node.value]


def interpret(raw: str, tp: Any, key: str) -> Any:
    """``raw`` as a value of type ``tp``: YAML, except that a str-typed key takes the text."""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as err:
        raise RunnerError(f"{key}={raw!r} is not valid YAML: {err.problem}") from err
    if tp is str and not isinstance(value, (str, list, dict)):
        value = raw
    return coerce(value, tp, key)


def _jsonable(value: Any) -> Any:
    """Tuples -> lists etc., so a spec survives JSON, YAML and papermill's injection."""
    return json.loads(json.dumps(value, default=str))


def _defaults(params: dict[str, dict]) -> dict[str, Any]:
    """The notebook's default values, where they are literals."""
    out = {}
    for name, p in params.items():
        if name == RESERVED:
            continue
        try:
            out[name] = ast.literal_eval(p["default"])
        except (ValueError, SyntaxError):
            pass  # an expression: papermill leaves the notebook's own default in place
    return out


def resolve(study: Study, out: Path, preset: str | None = None, seed: int | None = None,
            sets: list[str] = (), grid: list[str] = ()) -> list[RunSpec]:
    """The run specs of ``study``: the cartesian product of the grid axes, validated."""
    params = notebook_parameters(study)
    config = config_class(study)
    fields = config.field_types()
    notebook_types = {n: NOTEBOOK_TYPES.get(p["inferred_type_name"], Any) for n, p in params.items() if n != RESERVED}

    def value(key: str, raw: str) -> Any:
        if key == RESERVED:
            raise RunnerError(f"{RESERVED} is set by the runner; use --out to choose where runs go")
        if key in notebook_types:
            tp = notebook_types[key]
        elif key in fields:
            tp = fields[key]
        else:
            raise RunnerError(
                f"unknown parameter {key!r} for study {study.name!r}; notebook parameters: "
                f"{', '.join(notebook_types)}; Config fields: {', '.join(fields)}"
            )
        try:
            return interpret(raw, tp, key)
        except ConfigError as err:
            raise RunnerError(f"study {study.name!r}: {err}") from err

    base = _defaults(params)
    fixed: dict[str, Any] = {}
    if preset is not None:
        fixed["preset"] = value("preset", preset)
    if seed is not None:
        fixed["seed"] = value("seed", str(seed))
    for text in sets:
        key, raw = split_assignment(text, "--set")
        fixed[key] = value(key, raw)
    axes: dict[str, list] = {}
    for text in grid:
        key, raw = split_assignment(text, "--grid")
        if key in axes or key in fixed:
            raise RunnerError(f"{key!r} is given more than once across --preset/--seed/--set/--grid")
        axes[key] = [value(key, item) for item in split_values(raw)]

    specs: dict[str, RunSpec] = {}  # by run id: a repeated combination runs once
    for combo in itertools.product(*axes.values()):
        assigned = {**fixed, **dict(zip(axes, combo))}
        parameters = {**base, **{k: v for k, v in assigned.items() if k in notebook_types}}
        overrides = {**parameters["overrides"], **{k: v for k, v in assigned.items() if k not in notebook_types}}
        try:
            cfg = config.preset(parameters["preset"]).override(**overrides)
        except ConfigError as err:
            raise RunnerError(f"study {study.name!r}: {err}") from err
        parameters["overrides"] = _jsonable(overrides)
        spec = make_spec(study.name, study.notebook, parameters, _jsonable(cfg.to_dict()), out)
        specs.setdefault(spec.run_id, spec)
    return list(specs.values())
