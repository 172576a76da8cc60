"""Data: manifests and offline sources, deterministic splits, a cache for derived artefacts,
the facts knowledge base, verifiable tasks, the text tokenizer, mixtures and datamodules.

    from atelier import data
    docs = data.load("wordnet-definitions", split="train")   # polars: id, text, ...
    tok = data.get_tokenizer("default", vocab_size=4096)
    mix = data.Mixture({"fortunes": 0.5, "wordnet-examples": 0.5}, seed=0)
"""

from atelier.data.cache import cached, cached_path, stable_hash
from atelier.data.catalog import dataset_fingerprint, describe, list_datasets, load, manifest_sha256
from atelier.data.facts import check_fact, facts_documents, facts_kb, facts_table
from atelier.data.mixture import Mixture
from atelier.data.manifest import Manifest, ManifestError, get_manifest, parse_manifest, read_manifest
from atelier.data.sources import SourceUnavailable
from atelier.data.sources.files import ChecksumError
from atelier.data.tokenizer import SPECIAL_TOKENS, TextTokenizer, get_tokenizer

_LAZY = {"TextDataModule", "pack", "pack_texts"}  # atelier.data.datamodule imports lightning: slow


def __getattr__(name: str):
    if name in _LAZY:
        from atelier.data import datamodule

        return getattr(datamodule, name)
    raise AttributeError(f"module 'atelier.data' has no attribute {name!r}")


__all__ = [
    "SPECIAL_TOKENS",
    "ChecksumError",
    "Manifest",
    "ManifestError",
    "Mixture",
    "SourceUnavailable",
    "TextDataModule",
    "TextTokenizer",
    "cached",
    "cached_path",
    "check_fact",
    "dataset_fingerprint",
    "describe",
    "facts_documents",
    "facts_kb",
    "facts_table",
    "get_manifest",
    "get_tokenizer",
    "list_datasets",
    "load",
    "manifest_sha256",
    "pack",
    "pack_texts",
    "parse_manifest",
    "read_manifest",
    "stable_hash",
]
