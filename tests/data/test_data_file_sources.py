"""url / local / hf sources: sha256 verification (a mismatch is refused and nothing cached),
and one-line errors when the Hugging Face hub cannot be used. No network: urls are file://."""

import hashlib
import sys
import types

import pytest
import yaml

from atelier.data import ChecksumError, SourceUnavailable, describe, load

LINES = "the first document\nthe second document\n\nthe third document\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Empty cache and a manifest folder searched before the repo's."""
    (tmp_path / "manifests").mkdir()
    monkeypatch.setenv("ATELIER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ATELIER_MANIFESTS", str(tmp_path / "manifests"))
    data = tmp_path / "docs.txt"
    data.write_text(LINES)
    return tmp_path, data, hashlib.sha256(LINES.encode()).hexdigest()


def manifest(folder, name, source):
    body = {"name": name, "modality": "text", "description": "test data", "license": "CC0-1.0",
            "source": source, "splits": {"train": 0.5, "test": 0.5}}  # fmt: skip
    (folder / "manifests" / f"{name}.yaml").write_text(yaml.safe_dump(body))


def test_url_with_right_sha256_loads_and_is_cached(env):
    folder, data, sha = env
    manifest(folder, "toy-url", {"kind": "url", "url": data.as_uri(), "sha256": sha})
    docs = load("toy-url", "all")
    assert docs["text"].to_list() == ["the first document", "the second document", "the third document"]
    assert (folder / "cache" / "downloads" / sha).read_text() == LINES


def test_url_with_wrong_sha256_is_refused_and_nothing_cached(env):
    folder, data, sha = env
    wrong = "0" * 64
    manifest(folder, "toy-bad-url", {"kind": "url", "url": data.as_uri(), "sha256": wrong})
    with pytest.raises(ChecksumError, match=f"{sha}.*{wrong}"):
        load("toy-bad-url", "all")
    assert [p for p in (folder / "cache").rglob("*") if p.is_file()] == []


def test_local_sha256_is_checked(env):
    folder, data, sha = env
    manifest(folder, "toy-local", {"kind": "local", "path": str(data), "sha256": sha})
    assert load("toy-local", "all").height == 3
    manifest(folder, "toy-bad-local", {"kind": "local", "path": "../docs.txt", "sha256": "f" * 64})
    with pytest.raises(ChecksumError, match="refused"):
        load("toy-bad-local", "all")


def test_missing_local_file_says_so(env):
    folder, _, _ = env
    manifest(folder, "toy-missing", {"kind": "local", "path": "nowhere.txt"})
    assert describe("toy-missing")["available"] is False
    with pytest.raises(SourceUnavailable, match="nowhere.txt not found"):
        load("toy-missing", "all")


def test_hf_without_datasets_package_fails_in_one_line(env, monkeypatch):
    folder, _, _ = env
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets -> ImportError
    manifest(folder, "toy-hf", {"kind": "hf", "dataset": "org/corpus", "revision": "abc123"})
    with pytest.raises(SourceUnavailable) as info:
        load("toy-hf", "all")
    assert "org/corpus@abc123" in str(info.value) and "pip install datasets" in str(info.value)
    assert "\n" not in str(info.value)


def test_hf_offline_fails_in_one_line(env, monkeypatch):
    folder, _, _ = env

    def load_dataset(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'org/corpus' on the Hub (LocalEntryNotFoundError)\nmore detail")

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    manifest(folder, "toy-hf-offline", {"kind": "hf", "dataset": "org/corpus", "revision": "abc123"})
    with pytest.raises(SourceUnavailable) as info:
        load("toy-hf-offline", "all")
    assert "offline" in str(info.value) and "ConnectionError" in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SourceUnavailable, match="HF_HUB_OFFLINE is set"):
        load("toy-hf-offline", "all")


def test_hf_streams_through_datasets_when_available(env, monkeypatch):
    folder, _, _ = env
    calls = {}

    def load_dataset(dataset, config, revision, split, streaming):
        calls.update(dataset=dataset, revision=revision, streaming=streaming)
        return iter([{"text": f"row {i}"} for i in range(10)])

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    manifest(folder, "toy-hf-ok", {"kind": "hf", "dataset": "org/corpus", "revision": "abc123", "max_documents": 4})
    assert load("toy-hf-ok", "all")["text"].to_list() == ["row 0", "row 1", "row 2", "row 3"]
    assert calls == {"dataset": "org/corpus", "revision": "abc123", "streaming": True}
