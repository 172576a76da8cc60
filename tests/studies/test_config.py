"""StudyConfig: presets and validated overrides."""

import dataclasses
from typing import ClassVar, Literal

import pytest

from atelier.studies.config import ConfigError, StudyConfig


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    steps: int = 100
    lr: float = 1e-3
    widths: tuple[int, ...] = (64, 128)
    schedule: Literal["linear", "cosine"] = "cosine"
    note: str | None = None
    PRESETS: ClassVar[dict] = {"smoke": {"steps": 5, "widths": [16]}, "gpu": {"steps": 10_000}}


def test_cpu_preset_is_the_defaults_and_others_apply_their_changes():
    assert Config.preset("cpu") == Config()
    smoke = Config.preset("smoke")
    assert smoke.steps == 5 and smoke.widths == (16,) and smoke.lr == 1e-3
    assert Config.preset("gpu").steps == 10_000


def test_unknown_preset_names_the_valid_ones():
    with pytest.raises(ConfigError, match="valid presets: smoke, cpu, gpu"):
        Config.preset("large")


def test_override_coerces_compatible_types():
    cfg = Config().override(lr=1, widths=[32, 64], note=None)
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float)
    assert cfg.widths == (32, 64)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"step": 3}, r"no field 'step'; valid fields: steps, lr, widths, schedule, note"),
        ({"steps": "ten"}, r"steps='ten' \(str\) is not a int"),
        ({"steps": 2.5}, r"steps=2.5"),
        ({"steps": True}, r"steps=True"),
        ({"schedule": "wsd"}, r"schedule='wsd' is not one of \['linear', 'cosine'\]"),
        ({"widths": [1, "x"]}, r"widths\[1\]='x'"),
    ],
)
def test_bad_override_is_one_clear_error(change, message):
    with pytest.raises(ConfigError, match=message):
        Config().override(**change)


def test_describe_lists_fields_with_types_and_defaults():
    rows = {name: (tp, default) for name, tp, default in Config.describe()}
    assert rows["steps"] == ("int", 100)
    assert rows["widths"][1] == (64, 128)
