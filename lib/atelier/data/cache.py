"""A content-addressed cache for derived artefacts (parsed corpora, tokenizers, codebooks, ...).

An artefact lives at ``cache_root()/<kind>/<hash>.<fmt>`` where ``kind`` is the first of its
key parts and ``hash`` is a sha256 of all of them (JSON-encoded, so the key is stable across
machines and runs). A build writes into a temporary sibling and is renamed into place, so a
killed build never leaves a half-written file under the final name.

    tok = cached(["tokenizer", domains, vocab_size], build, fmt="text")
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import polars as pl

from atelier.paths import cache_root


def stable_hash(parts: Any, n_hex: int = 16) -> str:
    """sha256 of a JSON-able structure (paths become strings); the first n_hex hex digits."""
    blob = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:n_hex]


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def cache_path(key_parts: Sequence, suffix: str = "") -> Path:
    """Where the artefact keyed by key_parts lives (it may not exist yet)."""
    if not key_parts or not isinstance(key_parts[0], str):
        raise ValueError(f"key_parts must start with a str naming the artefact kind, got {key_parts!r}")
    suffix = f".{suffix}" if suffix and not suffix.startswith(".") else suffix
    return cache_root() / key_parts[0] / f"{stable_hash(list(key_parts))}{suffix}"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def publish(tmp: Path, final: Path) -> Path:
    """Rename a finished temporary file or folder into place (atomic on one filesystem).

    If another process published the same folder first, ours is discarded and theirs kept.
    """
    try:
        os.replace(tmp, final)
    except OSError:
        if not final.exists():
            raise
        _remove(tmp)
    return final


def cached_path(key_parts: Sequence, write: Callable[[Path], Any], suffix: str = "") -> Path:
    """Path of the artefact keyed by key_parts, building it with write(tmp_path) if absent.

    write receives a temporary path in the cache folder and must create a file or a folder
    there; it is renamed to the final path only once write returns.
    """
    final = cache_path(key_parts, suffix)
    if final.exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        write(tmp)
        if not tmp.exists():
            raise RuntimeError(f"the build for {final.name} wrote nothing at its temporary path")
        return publish(tmp, final)
    finally:
        _remove(tmp)


def _write_json(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False))


def _write_npy(arr: Any, path: Path) -> None:
    with open(path, "wb") as f:  # np.save(path) would append ".npy" to the temporary name
        np.save(f, np.asarray(arr), allow_pickle=False)


def _write_torch(obj: Any, path: Path) -> None:
    import torch

    torch.save(obj, path)


def _read_torch(path: Path) -> Any:
    import torch

    return torch.load(path, weights_only=True)


# fmt -> (write(obj, path), read(path))
FORMATS: dict[str, tuple[Callable[[Any, Path], None], Callable[[Path], Any]]] = {
    "parquet": (lambda df, p: df.write_parquet(p), pl.read_parquet),
    "json": (_write_json, lambda p: json.loads(p.read_text())),
    "text": (lambda s, p: p.write_text(s), lambda p: p.read_text()),
    "bytes": (lambda b, p: p.write_bytes(b), lambda p: p.read_bytes()),
    "npy": (_write_npy, lambda p: np.load(io.BytesIO(p.read_bytes()), allow_pickle=False)),
    "pt": (_write_torch, _read_torch),
}


def cached(key_parts: Sequence, build: Callable[[], Any], fmt: str = "parquet") -> Any:
    """The artefact keyed by key_parts: read from the cache, or built by build() and stored.

    fmt picks how it is stored: parquet (a polars DataFrame), json, text, bytes, npy (a numpy
    array) or pt (torch tensors / dicts of them, loaded with weights_only).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown cache format {fmt!r}; valid: {', '.join(FORMATS)}")
    write, read = FORMATS[fmt]
    path = cached_path(key_parts, lambda tmp: write(build(), tmp), suffix=fmt)
    return read(path)
