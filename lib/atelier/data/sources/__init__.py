"""Offline sources of documents, one module per source.

A builtin source module exposes one builder function per dataset (returning a polars
DataFrame with at least `id` and `text`), plus two module-level functions that let the
catalogue work without building anything:

- fingerprint() -> JSON-able summary of the inputs (file sizes, package versions, a format
  version), part of the cache key of the parsed corpus, so an upgrade rebuilds it;
- unavailable() -> None, or one line saying what to install.
"""

from __future__ import annotations

from pathlib import Path


class SourceUnavailable(RuntimeError):
    """A source that cannot be had on this machine; the message says what to install or fetch."""


def require_paths(paths: list[Path], apt_package: str) -> None:
    """Raise SourceUnavailable naming the Debian package when any of paths is missing."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise SourceUnavailable(f"{missing[0]} not found: install the Debian package (apt-get install {apt_package})")


def missing_paths(paths: list[Path], apt_package: str) -> str | None:
    """The SourceUnavailable message require_paths would raise, or None."""
    try:
        require_paths(paths, apt_package)
    except SourceUnavailable as err:
        return str(err)
    return None


def files_fingerprint(paths: list[Path]) -> list[tuple[str, int, int]]:
    """(path, size, mtime) of each existing file: cheap to compute, changes on upgrade."""
    return [(str(p), p.stat().st_size, int(p.stat().st_mtime)) for p in paths if p.exists()]
