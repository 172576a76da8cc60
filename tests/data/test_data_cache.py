"""The cache: built once per key, rebuilt when the key changes, and never left half-written."""

import numpy as np
import polars as pl
import pytest

from atelier.data.cache import cache_path, cached, cached_path


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_CACHE", str(tmp_path))
    return tmp_path


def test_built_once_per_key():
    calls = []

    def build():
        calls.append(1)
        return pl.DataFrame({"x": [1, 2, 3]})

    first = cached(["toy", 1], build)
    second = cached(["toy", 1], build)
    assert first.equals(second) and len(calls) == 1
    cached(["toy", 2], build)
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("fmt", "value"),
    [("json", {"a": [1, 2], "b": "c"}), ("text", "héllo\n"), ("bytes", b"\x00\xff"), ("npy", np.arange(6).reshape(2, 3))],
)
def test_formats_round_trip(fmt, value):
    got = cached(["toy", fmt], lambda: value, fmt=fmt)
    assert (got == value).all() if fmt == "npy" else got == value


def test_failed_build_leaves_nothing(tmp_cache):
    def build():
        raise RuntimeError("killed mid-build")

    with pytest.raises(RuntimeError):
        cached(["toy", "broken"], build, fmt="json")

    def half_write(path):
        path.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cached_path(["toy", "half"], half_write, suffix="txt")
    assert [p for p in tmp_cache.rglob("*") if p.is_file()] == []
    assert not cache_path(["toy", "half"], "txt").exists()


def test_folder_artefacts_and_bad_arguments():
    def write(path):
        path.mkdir()
        (path / "weights.bin").write_bytes(b"123")

    folder = cached_path(["model", "tiny"], write)
    assert (folder / "weights.bin").read_bytes() == b"123"
    with pytest.raises(ValueError, match="valid: parquet"):
        cached(["toy"], lambda: 1, fmt="yaml")
    with pytest.raises(ValueError, match="must start with a str"):
        cache_path([1, 2])
