"""load / list_datasets / describe: any manifest resolved to a polars DataFrame of documents.

A source's documents are parsed once and cached as parquet, keyed by the manifest's source
spec and a fingerprint of its inputs (so a package upgrade rebuilds them); a split is then
selected by hashing each document (atelier.data.splits). Within a process, loaded frames are
also kept in memory: studies call load often.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Callable

import polars as pl

from atelier.data.cache import cache_path, cached, stable_hash
from atelier.data.manifest import Manifest, get_manifest, manifest_files
from atelier.data.sources import SourceUnavailable, files_fingerprint
from atelier.data.sources.files import download, load_hf, read_documents, resolve_local, verify
from atelier.data.splits import select_split

FORMAT_VERSION = 1
LISTED = {"name": pl.String, "modality": pl.String, "kind": pl.String, "available": pl.Boolean,
          "documents": pl.Int64, "description": pl.String}  # fmt: skip


def _builder(manifest: Manifest) -> tuple[Callable[..., pl.DataFrame], ModuleType]:
    module_name, function = manifest.source["function"].split(":")
    module = importlib.import_module(module_name)
    if not hasattr(module, function):
        raise AttributeError(f"{manifest.path}: field 'source.function': {module_name} has no {function!r}")
    return getattr(module, function), module


def _local_path(manifest: Manifest) -> Path:
    return resolve_local(manifest.source["path"], manifest.path.parent if manifest.path else None)


def _cache_key(manifest: Manifest) -> list:
    """Cache key of a manifest's parsed documents."""
    source = manifest.source
    if manifest.kind == "builtin":
        _, module = _builder(manifest)
        fingerprint = getattr(module, "fingerprint", lambda: None)()
    elif manifest.kind == "local":
        fingerprint = source["sha256"] or files_fingerprint([_local_path(manifest)])
    else:
        fingerprint = None  # hf revisions and url checksums already pin the content
    return ["datasets", manifest.name, FORMAT_VERSION, source, fingerprint]


def unavailable(manifest: Manifest) -> str | None:
    """None if the dataset can be loaded here (as far as can be told without loading it),
    else one line saying what is missing."""
    source = manifest.source
    if manifest.kind == "builtin":
        _, module = _builder(manifest)
        return getattr(module, "unavailable", lambda: None)()
    if manifest.kind == "local":
        try:
            _local_path(manifest)
        except SourceUnavailable as err:
            return str(err)
        return None
    if manifest.kind == "hf":
        if importlib.util.find_spec("datasets") is None:
            return f"hf dataset {source['dataset']} needs the `datasets` package and network access: pip install datasets"
        return None
    return None  # url: known only by trying the download


def _build(manifest: Manifest) -> pl.DataFrame:
    source = manifest.source
    if manifest.kind == "builtin":
        if reason := unavailable(manifest):
            raise SourceUnavailable(f"dataset {manifest.name!r}: {reason}")
        build, _ = _builder(manifest)
        frame = build(**source["args"])
    elif manifest.kind == "hf":
        fields = ("dataset", "revision", "config", "split", "text_field", "max_documents")
        frame = load_hf(*(source[field] for field in fields))
    elif manifest.kind == "url":
        frame = read_documents(download(source["url"], source["sha256"]), source["format"], source["text_field"])
    else:
        path = _local_path(manifest)
        if source["sha256"]:
            verify(path, source["sha256"], f"{manifest.path}: {path}")
        frame = read_documents(path, source["format"], source["text_field"])
    for column in ("id", "text") if manifest.modality in ("text", "code") else ("id",):
        if column not in frame.columns:
            raise ValueError(f"dataset {manifest.name!r}: its source gave no {column!r} column; columns: {frame.columns}")
    return frame


def _documents(manifest: Manifest, split: str = "all") -> pl.DataFrame:
    return _memo(dataset_fingerprint(manifest.name), manifest.name, split)


@lru_cache(maxsize=64)
def _memo(key_hash: str, name: str, split: str) -> pl.DataFrame:
    """A dataset's documents in one split, kept per process (key_hash changes with the inputs
    and the split ratios)."""
    manifest = get_manifest(name)
    if split != "all":
        return select_split(_memo(key_hash, name, "all"), split, manifest.splits, key=manifest.split_by)
    return cached(_cache_key(manifest), lambda: _build(manifest), fmt="parquet")


def dataset_fingerprint(name: str) -> str:
    """A hash that changes when a dataset's documents or split ratios change."""
    manifest = get_manifest(name)
    return stable_hash([_cache_key(manifest), manifest.splits, manifest.split_by])


def load(name: str, split: str = "train") -> pl.DataFrame:
    """The documents of dataset `name` in `split` (train / val / test as its manifest defines,
    or "all"); text datasets have at least the columns id and text.

    The frame is shared by every caller in the process: derive new frames, never mutate it.
    """
    manifest = get_manifest(name)
    if split != "all" and split not in manifest.splits:
        raise ValueError(f"unknown split {split!r} for dataset {name!r}; valid: {', '.join([*manifest.splits, 'all'])}")
    return _documents(manifest, split)


def manifest_sha256(name: str) -> str:
    """sha256 of a dataset's manifest file (what a run records to pin its data)."""
    return hashlib.sha256(manifest_files()[name].read_bytes()).hexdigest()


def describe(name: str) -> dict:
    """What a dataset is, whether it can be loaded here and (once built) how many documents it has."""
    manifest = get_manifest(name)
    reason = unavailable(manifest)
    documents = None
    if reason is None:
        path = cache_path(_cache_key(manifest), "parquet")
        if path.exists():
            documents = pl.scan_parquet(path).select(pl.len()).collect().item()
    return {
        "name": manifest.name,
        "modality": manifest.modality,
        "description": manifest.description,
        "license": manifest.license,
        "source": dict(manifest.source),
        "splits": dict(manifest.splits),
        "split_by": manifest.split_by,
        "available": reason is None,
        "unavailable_reason": reason,
        "documents": documents,
        "manifest": str(manifest.path),
        "manifest_sha256": manifest_sha256(name),
        "homepage": manifest.homepage,
    }


def list_datasets() -> pl.DataFrame:
    """One row per manifest: name, modality, kind, available, documents (None until first built),
    description."""
    rows = []
    for name in manifest_files():
        info = describe(name)
        rows.append({**{key: info[key] for key in LISTED if key != "kind"}, "kind": info["source"]["kind"]})
    return pl.DataFrame(rows, schema=LISTED)
