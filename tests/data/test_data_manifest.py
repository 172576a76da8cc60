"""Manifest validation: every shipped manifest is valid, and each kind of mistake is reported
with the file, the field and what would be valid."""

import pytest
import yaml

from atelier.data.manifest import ManifestError, manifest_files, read_manifest

GOOD = {
    "name": "toy",
    "modality": "text",
    "description": "a toy dataset",
    "license": "CC0-1.0",
    "source": {"kind": "local", "path": "toy.txt"},
    "splits": {"train": 0.8, "val": 0.1, "test": 0.1},
}


def write(tmp_path, manifest, name="toy"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return path


def error_of(tmp_path, manifest) -> str:
    path = write(tmp_path, manifest)
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


def test_every_shipped_manifest_is_valid():
    files = manifest_files()
    expected = {"wordnet-definitions", "wordnet-examples", "fortunes", "python-stdlib", "manpages", "facts-kb", "facts-documents"}
    assert expected <= set(files)
    for name, path in files.items():
        assert read_manifest(path).name == name


def test_good_manifest_fills_defaults(tmp_path):
    manifest = read_manifest(write(tmp_path, GOOD))
    assert manifest.kind == "local" and manifest.source["format"] == "lines" and manifest.source["sha256"] is None
    assert manifest.split_by == "text"


@pytest.mark.parametrize("field", ["name", "modality", "description", "license", "source", "splits"])
def test_missing_field_is_named(tmp_path, field):
    manifest = {k: v for k, v in GOOD.items() if k != field}
    message = error_of(tmp_path, manifest)
    assert f"field '{field}'" in message and "missing" in message


def test_bad_source_kind_lists_valid_kinds(tmp_path):
    message = error_of(tmp_path, {**GOOD, "source": {"kind": "ftp", "path": "x"}})
    assert "'source.kind'" in message and "'ftp'" in message
    assert all(kind in message for kind in ("builtin", "hf", "url", "local"))


def test_missing_source_field_is_named(tmp_path):
    message = error_of(tmp_path, {**GOOD, "source": {"kind": "url", "url": "file:///x"}})
    assert "'source.sha256'" in message


def test_hf_source_needs_a_revision(tmp_path):
    message = error_of(tmp_path, {**GOOD, "source": {"kind": "hf", "dataset": "org/set"}})
    assert "'source.revision'" in message


@pytest.mark.parametrize(
    ("splits", "field"),
    [
        ({"train": 0.8, "val": 0.1}, "'splits'"),  # sums to 0.9
        ({"train": 1.1, "val": -0.1}, "'splits.train'"),
        ({"train": "most"}, "'splits.train'"),
        ({}, "'splits'"),
    ],
)
def test_bad_split_ratios_are_named(tmp_path, splits, field):
    assert field in error_of(tmp_path, {**GOOD, "splits": splits})


def test_unknown_fields_and_bad_values(tmp_path):
    assert "'colour'" in error_of(tmp_path, {**GOOD, "colour": "red"})
    assert "'source.pth'" in error_of(tmp_path, {**GOOD, "source": {"kind": "local", "path": "x", "pth": "y"}})
    assert "'modality'" in error_of(tmp_path, {**GOOD, "modality": "smell"})
    assert "'source.sha256'" in error_of(tmp_path, {**GOOD, "source": {"kind": "local", "path": "x", "sha256": "abc"}})
    assert "'source.format'" in error_of(tmp_path, {**GOOD, "source": {"kind": "local", "path": "x", "format": "xml"}})
    bad_function = {"kind": "builtin", "function": "not a function"}
    assert "'source.function'" in error_of(tmp_path, {**GOOD, "source": bad_function})


def test_name_must_match_file(tmp_path):
    path = write(tmp_path, {**GOOD, "name": "other"})
    with pytest.raises(ManifestError, match="field 'name'"):
        read_manifest(path)
