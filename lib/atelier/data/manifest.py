"""Dataset manifests: one YAML file per dataset in data_manifests/, validated on load.

A manifest names a dataset and says where its documents come from:

    name: fortunes
    modality: text
    description: Quotes and literature excerpts from the Debian fortunes packages.
    license: BSD-4-Clause (fortune-mod); individual quotes belong to their authors
    source:
      kind: builtin                       # builtin | hf | url | local
      function: atelier.data.sources.fortunes:fortunes
    splits: {train: 0.9, val: 0.05, test: 0.05}

Every error names the file, the field, and what would be valid.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from pathlib import Path
from typing import Any

import yaml

from atelier.paths import repo_root

MODALITIES = ("text", "code", "kb", "task", "image-text", "audio-text")
FORMATS = ("lines", "jsonl", "parquet", "csv")

# kind -> (required fields, optional fields with their defaults)
SOURCE_FIELDS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "builtin": (("function",), {"args": {}, "requires": []}),
    "hf": (
        ("dataset", "revision"),
        {"config": None, "split": "train", "text_field": "text", "max_documents": None},
    ),
    "url": (("url", "sha256"), {"format": "lines", "text_field": "text"}),
    "local": (("path",), {"sha256": None, "format": "lines", "text_field": "text"}),
}
REQUIRED = ("name", "modality", "description", "license", "source", "splits")
OPTIONAL = {"split_by": "text", "homepage": None, "citation": None}


class ManifestError(ValueError):
    """A manifest that does not follow the schema."""


@dataclasses.dataclass(frozen=True)
class Manifest:
    """A validated manifest. source holds kind plus that kind's fields (defaults filled in)."""

    name: str
    modality: str
    description: str
    license: str
    source: dict
    splits: dict[str, float]
    split_by: str = "text"
    homepage: str | None = None
    citation: str | None = None
    path: Path | None = None

    @property
    def kind(self) -> str:
        return self.source["kind"]


def _fail(file: Path | str, field: str, problem: str) -> ManifestError:
    return ManifestError(f"{file}: field '{field}': {problem}")


def _check_str(file, field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(file, field, f"must be a non-empty string, got {value!r}")
    return value


def _validate_source(file, source: Any) -> dict:
    if not isinstance(source, dict):
        raise _fail(file, "source", f"must be a mapping with a 'kind', got {source!r}")
    kind = source.get("kind")
    if kind not in SOURCE_FIELDS:
        raise _fail(file, "source.kind", f"{kind!r} is not valid; valid: {', '.join(SOURCE_FIELDS)}")
    required, optional = SOURCE_FIELDS[kind]
    for field in required:
        if field not in source:
            raise _fail(file, f"source.{field}", f"missing (a '{kind}' source needs: {', '.join(required)})")
    unknown = set(source) - {"kind", *required, *optional}
    if unknown:
        valid = ", ".join(("kind", *required, *optional))
        raise _fail(file, f"source.{sorted(unknown)[0]}", f"unknown for kind '{kind}'; valid: {valid}")
    resolved = {"kind": kind, **optional, **source}
    if kind == "builtin" and not re.fullmatch(r"[\w.]+:\w+", str(resolved["function"])):
        raise _fail(file, "source.function", f"{resolved['function']!r} must look like 'package.module:function'")
    sha = resolved.get("sha256")
    if sha is not None and not re.fullmatch(r"[0-9a-f]{64}", str(sha)):
        raise _fail(file, "source.sha256", f"{sha!r} must be 64 lowercase hex digits")
    if "format" in resolved and resolved["format"] not in FORMATS:
        raise _fail(file, "source.format", f"{resolved['format']!r} is not valid; valid: {', '.join(FORMATS)}")
    return resolved


def _validate_splits(file, splits: Any) -> dict[str, float]:
    if not isinstance(splits, dict) or not splits:
        raise _fail(file, "splits", f"must map split names to ratios, e.g. {{train: 0.9, val: 0.1}}; got {splits!r}")
    for split, ratio in splits.items():
        if split == "all":
            raise _fail(file, "splits.all", "'all' is reserved for the whole dataset")
        if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) or not 0 < ratio <= 1:
            raise _fail(file, f"splits.{split}", f"ratio must be a number in (0, 1], got {ratio!r}")
    total = sum(splits.values())
    if not math.isclose(total, 1.0, abs_tol=1e-6):
        raise _fail(file, "splits", f"ratios must sum to 1, got {total:g} ({splits})")
    return {str(k): float(v) for k, v in splits.items()}


def parse_manifest(raw: Any, file: Path | str = "<manifest>") -> Manifest:
    """Validate a manifest's parsed YAML; raise ManifestError naming file, field and valid values."""
    if not isinstance(raw, dict):
        raise _fail(file, "<top>", f"a manifest must be a mapping, got {type(raw).__name__}")
    for field in REQUIRED:
        if field not in raw:
            raise _fail(file, field, f"missing (required: {', '.join(REQUIRED)})")
    unknown = set(raw) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        valid = ", ".join((*REQUIRED, *OPTIONAL))
        raise _fail(file, sorted(unknown)[0], f"unknown field; valid: {valid}")
    name = _check_str(file, "name", raw["name"])
    if isinstance(file, Path) and file.stem != name:
        raise _fail(file, "name", f"{name!r} must match the file name {file.stem!r}")
    if raw["modality"] not in MODALITIES:
        raise _fail(file, "modality", f"{raw['modality']!r} is not valid; valid: {', '.join(MODALITIES)}")
    return Manifest(
        name=name,
        modality=raw["modality"],
        description=_check_str(file, "description", raw["description"]),
        license=_check_str(file, "license", raw["license"]),
        source=_validate_source(file, raw["source"]),
        splits=_validate_splits(file, raw["splits"]),
        split_by=_check_str(file, "split_by", raw.get("split_by", OPTIONAL["split_by"])),
        homepage=raw.get("homepage"),
        citation=raw.get("citation"),
        path=Path(file) if isinstance(file, Path) else None,
    )


def read_manifest(path: str | Path) -> Manifest:
    """Read and validate one manifest file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ManifestError(f"{path}: not valid YAML: {err}".splitlines()[0]) from err
    return parse_manifest(raw, path)


def manifest_dirs() -> list[Path]:
    """Folders searched for manifests: $ATELIER_MANIFESTS (os.pathsep-separated) then the repo's."""
    extra = [Path(p) for p in os.environ.get("ATELIER_MANIFESTS", "").split(os.pathsep) if p]
    return [*extra, repo_root() / "data_manifests"]


def manifest_files() -> dict[str, Path]:
    """Dataset name -> manifest path (an earlier folder wins)."""
    found: dict[str, Path] = {}
    for folder in manifest_dirs():
        for path in sorted(folder.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def get_manifest(name: str) -> Manifest:
    """The validated manifest of dataset `name`; an unknown name lists the known ones."""
    files = manifest_files()
    if name not in files:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(files)) or '(none)'}")
    return read_manifest(files[name])
