"""Where atelier's files live: the repository root, the outputs root and the cache."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout holding notebooks/ and data_manifests/ ($ATELIER_HOME overrides)."""
    if "ATELIER_HOME" in os.environ:
        return Path(os.environ["ATELIER_HOME"]).resolve()
    return Path(__file__).resolve().parents[2]


def outputs_root() -> Path:
    """Default root for run directories ($ATELIER_OUTPUTS overrides; else <repo>/outputs)."""
    if "ATELIER_OUTPUTS" in os.environ:
        return Path(os.environ["ATELIER_OUTPUTS"]).resolve()
    return repo_root() / "outputs"


def cache_root() -> Path:
    """Cache for derived artefacts: $ATELIER_CACHE, default ~/.cache/atelier."""
    root = Path(os.environ.get("ATELIER_CACHE", Path.home() / ".cache" / "atelier"))
    root.mkdir(parents=True, exist_ok=True)
    return root
