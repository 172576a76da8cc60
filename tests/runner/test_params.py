"""Resolving --preset/--seed/--set/--grid into run specs, and rejecting bad input before any kernel."""

import itertools
import re

import pytest

from atelier import cli
from atelier.runner import RunnerError
from atelier.runner.params import resolve, split_values
from atelier.studies import get_study

NOTEBOOK_PARAMS = ("preset", "seed", "overrides")
FIELDS = ("steps", "scale", "label", "widths")


@pytest.fixture
def toy(toy_home):
    return get_study("toy_ok")


def test_grid_values_split_on_top_level_commas_only():
    assert split_values("1,2") == ["1", "2"]
    assert split_values("[1,2],[3]") == ["[1,2]", "[3]"]
    assert split_values("cosine, linear") == ["cosine", "linear"]
    assert split_values("{a: 1, b: 2},x") == ["{a: 1, b: 2}", "x"]


def test_grid_is_the_cartesian_product_over_notebook_parameters_and_config_fields(toy, tmp_path):
    specs = resolve(toy, tmp_path, preset="smoke", grid=["seed=0,1", "steps=1,2,3"])
    got = {(s.parameters["seed"], s.config["steps"]) for s in specs}
    assert got == set(itertools.product([0, 1], [1, 2, 3]))
    assert len({s.run_id for s in specs}) == 6
    assert all(s.parameters["overrides"] == {"steps": s.config["steps"]} for s in specs)


def test_values_are_yaml_coerced_to_the_field_type_and_passed_as_overrides(toy, tmp_path):
    (spec,) = resolve(toy, tmp_path, sets=["scale=2", "widths=[4, 8]", "label=123"])
    assert spec.parameters["overrides"] == {"scale": 2.0, "widths": [4, 8], "label": "123"}
    assert isinstance(spec.config["scale"], float)
    assert spec.config["label"] == "123"  # str-typed: the text, not the YAML integer
    assert spec.parameters["preset"] == "cpu" and spec.parameters["seed"] == 0  # the notebook's defaults


def test_run_id_is_readable_and_equal_for_equal_resolved_configs(toy, tmp_path):
    (plain,) = resolve(toy, tmp_path, preset="smoke", seed=3)
    (same,) = resolve(toy, tmp_path, preset="smoke", seed=3, sets=["steps=2"])  # smoke's own value
    (other,) = resolve(toy, tmp_path, preset="smoke", seed=3, sets=["steps=5"])
    assert re.fullmatch(r"smoke-seed3-[0-9a-f]{8}", plain.run_id)
    assert plain.run_id == same.run_id != other.run_id
    assert plain.final == tmp_path.resolve() / "toy_ok" / plain.run_id


def test_repeated_combinations_run_once(toy, tmp_path):
    assert len(resolve(toy, tmp_path, grid=["steps=3,3,4"])) == 2


def test_unknown_key_names_every_valid_key(toy, tmp_path):
    with pytest.raises(RunnerError, match="unknown parameter 'stepz'") as err:
        resolve(toy, tmp_path, sets=["stepz=3"])
    assert all(name in str(err.value) for name in NOTEBOOK_PARAMS + FIELDS)


@pytest.mark.parametrize("kwargs, words", [
    ({"sets": ["steps=abc"]}, ["steps", "int"]),
    ({"sets": ["seed=1.5"]}, ["seed", "int"]),
    ({"grid": ["scale=1,x"]}, ["scale", "float"]),
    ({"sets": ["widths=7"]}, ["widths", "tuple"]),
    ({"preset": "large"}, ["large", "smoke, cpu, gpu"]),
    ({"sets": ["run_dir=/tmp/x"]}, ["run_dir", "--out"]),
    ({"sets": ["steps"]}, ["key=value", "steps"]),
    ({"sets": ["steps=1"], "grid": ["steps=2,3"]}, ["steps", "more than once"]),
])
def test_ill_typed_or_malformed_values_fail_naming_the_key(toy, tmp_path, kwargs, words):
    with pytest.raises(RunnerError) as err:
        resolve(toy, tmp_path, **kwargs)
    assert all(w in str(err.value) for w in words), str(err.value)


@pytest.mark.parametrize("argv", [
    ["--set", "nope=1"],
    ["--set", "steps=abc"],
    ["--grid", "scale=1,x"],
])
def test_cli_rejects_bad_keys_with_exit_2_before_any_kernel_starts(toy_home, tmp_path, monkeypatch, capsys, argv):
    def no_batch(*args, **kwargs):
        raise AssertionError("a run was started despite invalid parameters")

    monkeypatch.setattr("atelier.runner.batch.run_batch", no_batch)
    code = cli.main(["run", "toy_ok", "toy_fail", "--out", str(tmp_path), *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("atelier: error: ")
    assert not any(tmp_path.iterdir())


def test_cli_requires_studies_or_all(capsys):
    assert cli.main(["run"]) == 2
    assert cli.main(["run", "no_such_study"]) == 2
    assert "valid studies" in capsys.readouterr().err


def test_all_runs_the_available_studies_marked_in_all(toy_home, tmp_path, monkeypatch):
    seen = []

    def record(specs, **kwargs):
        seen.extend(specs)
        return []

    monkeypatch.setattr("atelier.runner.batch.run_batch", record)
    assert cli.main(["run", "--all", "--preset", "smoke", "--out", str(tmp_path)]) == 0
    assert sorted(s.study for s in seen) == ["toy_fail", "toy_ok"]  # toy_slow is not in --all
