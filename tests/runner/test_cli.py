"""The thin commands: list, list STUDY, report, data."""

import sys

from atelier import cli


def test_list_shows_every_study_and_which_are_runnable(toy_home, capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "toy_ok" in out and "notebooks/91_toy_ok.ipynb" in out and "presets: smoke, cpu, gpu" in out
    assert "quickstart" in out  # a registered study without a notebook here
    assert "not yet available" in out


def test_list_study_shows_typed_parameters_config_fields_and_presets(toy_home, capsys):
    assert cli.main(["list", "toy_ok"]) == 0
    out = capsys.readouterr().out
    assert 'preset: str = "cpu"  # smoke | cpu | gpu' in out
    assert "seed: int = 0" in out
    for line in ("steps: int = 3", "scale: float = 1.0", "label: str = 'toy'", "smoke: steps=2", "gpu: steps=100"):
        assert line in out, line


def test_report_command_builds_the_gallery(tmp_path, capsys):
    assert cli.main(["report", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "runs.parquet").is_file() and (tmp_path / "index.html").is_file()
    assert "0 runs" in capsys.readouterr().out


def test_data_commands_explain_when_the_data_package_is_missing(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "atelier.data", None)  # importing it now raises ImportError
    assert cli.main(["data", "list"]) == 1
    assert "not available yet" in capsys.readouterr().err
