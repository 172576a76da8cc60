"""Linux manual pages (Debian `manpages` and `manpages-dev`) rendered to plain text.

Technical English prose about system calls, the C library, file formats and concepts
(~2,000 pages). The page list comes from dpkg's file lists of the two packages; pages that
only include another (".so") are skipped. Each page is rendered by groff (Debian
`groff-base`) with ragged-right lines and no hyphenation, and without the running
header and footer lines.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl

from atelier.data.sources import SourceUnavailable, files_fingerprint

PACKAGES = ("manpages", "manpages-dev")
DPKG_INFO = Path("/var/lib/dpkg/info")
PAGE = re.compile(r"^/usr/share/man/man\d/[^/]+\.gz$")
GROFF = ["groff", "-t", "-man", "-Tutf8", "-P-cbou", "-rHY=0"]
# groff's utf8 device prints these for the ASCII "-" and "'": map them back
ASCII = str.maketrans({"\u2010": "-", "\u2212": "-", "\u2019": "'", "\u2018": "`"})


def _lists() -> list[Path]:
    return [DPKG_INFO / f"{package}.list" for package in PACKAGES]


def fingerprint() -> list:
    return [1, files_fingerprint(_lists())]


def unavailable() -> str | None:
    missing = [package for package, path in zip(PACKAGES, _lists()) if not path.exists()]
    if missing:
        return f"manual pages not installed: install the Debian packages (apt-get install {' '.join(missing)})"
    if shutil.which("groff") is None:
        return "groff not found: install the Debian package (apt-get install groff-base)"
    return None


def _pages() -> list[Path]:
    paths = [Path(line) for lst in _lists() for line in lst.read_text().splitlines() if PAGE.match(line)]
    return sorted(p for p in paths if p.is_file() and not p.is_symlink())


def render(source: str) -> str:
    """Plain text of one page's roff source (ragged right, running header and footer removed)."""
    out = subprocess.run(GROFF, input=".na\n" + source, capture_output=True, text=True, check=False).stdout
    lines = [line.rstrip() for line in out.translate(ASCII).splitlines()]
    content = [i for i, line in enumerate(lines) if line]
    lines = lines[content[1] : content[-1]] if len(content) > 2 else []  # drop header and footer
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _document(path: Path) -> tuple[str, str, str, str] | None:
    source = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
    if source.lstrip().startswith(".so "):
        return None
    text = render(source)
    if not text:
        return None
    name_line = re.search(r"^NAME\n\s+(.+)$", text, re.MULTILINE)
    page = path.name.removesuffix(".gz")
    return page, text, page.rsplit(".", 1)[-1], name_line.group(1).strip() if name_line else page


def manpages() -> pl.DataFrame:
    """One row per page: id (e.g. read.2), text, section, title (the NAME line)."""
    if reason := unavailable():
        raise SourceUnavailable(reason)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        docs = [d for d in pool.map(_document, _pages()) if d is not None]
    return pl.DataFrame(docs, schema=["id", "text", "section", "title"], orient="row")
