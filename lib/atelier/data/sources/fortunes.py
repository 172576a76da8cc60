"""Quotes and literature excerpts from Debian's fortunes / fortunes-min packages.

Each file in /usr/share/games/fortunes is a list of fortunes separated by lines holding a
single "%". The index files (.dat), the .u8 links and the offensive/ subfolder (off/, from
fortunes-off) are skipped; terminal overstrikes (backspaces, used for underlining and bold)
are replayed as a terminal would show them.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from atelier.data.sources import SourceUnavailable, files_fingerprint

ROOT = Path("/usr/share/games/fortunes")
APT_PACKAGE = "fortunes"
SEPARATOR = re.compile(r"^%\s*$", re.MULTILINE)


def _files() -> list[Path]:
    if not ROOT.is_dir():
        return []
    return sorted(p for p in ROOT.iterdir() if p.is_file() and not p.is_symlink() and not p.suffix)


def fingerprint() -> list:
    return [1, files_fingerprint(_files())]


def unavailable() -> str | None:
    if not _files():
        return f"{ROOT} has no fortune files: install the Debian package (apt-get install {APT_PACKAGE})"
    return None


def replay_backspaces(line: str) -> str:
    """What a terminal shows for a line with backspaces: a later char overwrites an earlier
    one, except that "_" (underlining) never hides a letter."""
    shown: list[str] = []
    pos = 0
    for ch in line:
        if ch == "\b":
            pos = max(pos - 1, 0)
            continue
        if pos == len(shown):
            shown.append(ch)
        elif ch != "_":
            shown[pos] = ch
        pos += 1
    return "".join(shown)


def fortunes() -> pl.DataFrame:
    """One row per fortune: id (<file>-<index>), text, category (the file name)."""
    if reason := unavailable():
        raise SourceUnavailable(reason)
    rows = []
    for path in _files():
        text = path.read_text(encoding="utf-8", errors="replace")
        text = "\n".join(replay_backspaces(line) if "\b" in line else line for line in text.split("\n"))
        chunks = [c.strip("\n") for c in SEPARATOR.split(text)]
        rows.extend((f"{path.name}-{i}", chunk, path.name) for i, chunk in enumerate(chunks) if chunk.strip())
    return pl.DataFrame(rows, schema=["id", "text", "category"], orient="row")
