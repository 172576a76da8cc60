"""The running Python's standard library source, one code document per .py file.

Files are decoded with their declared source encoding (PEP 263); the few that fail on
purpose (the encoding tests' bad-coding fixtures) are skipped. site-packages is excluded.
"""

from __future__ import annotations

import sys
import sysconfig
import tokenize
from pathlib import Path

import polars as pl

ROOT = Path(sysconfig.get_paths()["stdlib"])
EXCLUDED = {"site-packages", "dist-packages", "__pycache__"}


def _files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if not EXCLUDED & set(p.relative_to(ROOT).parts))


def fingerprint() -> list:
    return [1, sys.version, str(ROOT)]


def unavailable() -> str | None:
    return None if ROOT.is_dir() else f"the Python standard library source was not found at {ROOT}"


def _read(path: Path) -> str | None:
    try:
        with tokenize.open(path) as f:
            return f.read()
    except (SyntaxError, UnicodeDecodeError):
        return None


def python_stdlib() -> pl.DataFrame:
    """One row per file: id (path under the stdlib), text (source), module, is_test."""
    rows = []
    for path in _files():
        text = _read(path)
        if not text or not text.strip():
            continue
        rel = path.relative_to(ROOT)
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        is_test = bool({"test", "tests", "idle_test"} & set(rel.parts))
        rows.append((str(rel), text, module, is_test))
    return pl.DataFrame(rows, schema=["id", "text", "module", "is_test"], orient="row")
