"""StudyConfig: the single source of truth for a study's knobs, with named presets.

Every study defines ``Config(StudyConfig)`` as a frozen dataclass whose defaults are the
``cpu`` preset, and a ``PRESETS`` mapping of the fields that differ for ``smoke`` and ``gpu``.
A notebook then does ``cfg = Config.preset(preset).override(**overrides)``; an unknown or
mistyped field fails with one message naming the valid fields and the expected type.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, ClassVar

PRESET_NAMES = ("smoke", "cpu", "gpu")


class ConfigError(ValueError):
    """A preset name or override that the study's Config does not accept."""


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def coerce(value: Any, tp: Any, where: str) -> Any:
    """Return ``value`` as type ``tp`` (int -> float, list -> tuple allowed), else raise ConfigError."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            try:
                return coerce(value, arg, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}={value!r} is not a {_type_name(tp)}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}={value!r} is not None")
    if origin is typing.Literal:
        if value in args:
            return value
        raise ConfigError(f"{where}={value!r} is not one of {list(args)}")
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}={value!r} is not a {_type_name(tp)}")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            items = [coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
        elif origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(f"{where}={value!r} needs {len(args)} items")
            items = [coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args))]
        else:
            items = [coerce(v, args[0], f"{where}[{i}]") if args else v for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else list(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}={value!r} is not a dict")
        return dict(value)
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp is bool and isinstance(value, bool):
        return value
    if tp is str and isinstance(value, str):
        return value
    if isinstance(tp, type) and tp not in (int, float, bool, str) and isinstance(value, tp):
        return value
    raise ConfigError(f"{where}={value!r} ({type(value).__name__}) is not a {_type_name(tp)}")


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Base class of every study's Config: presets and validated overrides."""

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    @classmethod
    def field_types(cls) -> dict[str, Any]:
        hints = typing.get_type_hints(cls)
        return {f.name: hints[f.name] for f in dataclasses.fields(cls)}

    @classmethod
    def preset(cls, name: str) -> "StudyConfig":
        """The Config of preset ``name`` (smoke | cpu | gpu); cpu is the dataclass defaults."""
        if name not in PRESET_NAMES:
            raise ConfigError(f"unknown preset {name!r}; valid presets: {', '.join(PRESET_NAMES)}")
        return cls().override(**cls.PRESETS.get(name, {}))

    def override(self, **changes: Any) -> "StudyConfig":
        """A copy with ``changes`` applied, each checked against the field's declared type."""
        types_ = self.field_types()
        unknown = sorted(set(changes) - set(types_))
        if unknown:
            raise ConfigError(
                f"{type(self).__module__.rsplit('.', 1)[-1]}.Config has no field "
                f"{', '.join(map(repr, unknown))}; valid fields: {', '.join(types_)}"
            )
        checked = {k: coerce(v, types_[k], k) for k, v in changes.items()}
        return dataclasses.replace(self, **checked)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def describe(cls) -> list[tuple[str, str, Any]]:
        """(field, type, cpu default) for each field: what `atelier list STUDY` prints."""
        default = cls()
        return [(k, _type_name(t), getattr(default, k)) for k, t in cls.field_types().items()]
