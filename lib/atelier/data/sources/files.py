"""Documents from files: local paths, URLs (sha256-verified) and Hugging Face datasets.

- local: a path (relative to the manifest's folder), optionally checked against a sha256.
- url: downloaded once into cache_root()/downloads/<sha256>; a download whose sha256 differs
  from the manifest's is refused and nothing is cached.
- hf: a dataset id at a pinned revision, streamed with the `datasets` library when it is
  installed and the hub is reachable; otherwise one line saying so.

A file holds documents as lines (one per non-empty line), jsonl, csv or parquet (the
text_field column becomes `text`).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import polars as pl

from atelier.data.cache import publish, sha256_file
from atelier.data.sources import SourceUnavailable
from atelier.paths import cache_root


class ChecksumError(ValueError):
    """A file whose sha256 is not the one its manifest fixes."""


def read_documents(path: Path, fmt: str, text_field: str = "text") -> pl.DataFrame:
    """id, text (and any other columns) of the documents in a file."""
    if fmt == "lines":
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return pl.DataFrame({"id": [f"{path.stem}:{i}" for i in range(len(lines))], "text": lines})
    readers = {"jsonl": pl.read_ndjson, "csv": pl.read_csv, "parquet": pl.read_parquet}
    frame = readers[fmt](path)
    if text_field not in frame.columns:
        raise ValueError(f"{path}: no text column {text_field!r}; columns: {', '.join(frame.columns)}")
    frame = frame.rename({text_field: "text"}) if text_field != "text" else frame
    if "id" not in frame.columns:
        frame = frame.with_row_index("id").with_columns(pl.col("id").cast(pl.String))
    return frame.with_columns(pl.col("id").cast(pl.String))


def verify(path: Path, expected: str, origin: str) -> None:
    """Raise ChecksumError when path's sha256 is not `expected`."""
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumError(f"{origin}: sha256 {actual} does not match the manifest's {expected}; refused")


def resolve_local(path: str, manifest_dir: Path | None) -> Path:
    """A local source path: absolute, or relative to the folder of its manifest."""
    resolved = Path(path).expanduser()
    if not resolved.is_absolute() and manifest_dir is not None:
        resolved = manifest_dir / resolved
    if not resolved.exists():
        raise SourceUnavailable(f"local data file {resolved} not found: put the file there or fix source.path")
    return resolved


def download(url: str, sha256: str) -> Path:
    """The file at url, cached under its sha256; a mismatching download is deleted and refused."""
    final = cache_root() / "downloads" / sha256
    if final.exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{sha256}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
            while block := response.read(1 << 20):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != sha256:
            raise ChecksumError(
                f"{url}: sha256 {digest.hexdigest()} does not match the manifest's {sha256}; refused, nothing cached"
            )
        return publish(tmp, final)
    except (urllib.error.URLError, OSError) as err:
        raise SourceUnavailable(f"cannot download {url}: {err}") from err
    finally:
        tmp.unlink(missing_ok=True)


def load_hf(
    dataset: str, revision: str, config: str | None, split: str, text_field: str, max_documents: int | None
) -> pl.DataFrame:
    """Documents of a Hugging Face dataset, streamed (id, text)."""
    where = f"hf dataset {dataset}@{revision}"
    for flag in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        if os.environ.get(flag, "0") not in ("", "0"):
            raise SourceUnavailable(f"{where} needs the Hugging Face hub, but {flag} is set (offline)")
    try:
        import datasets
    except ImportError:
        raise SourceUnavailable(f"{where} needs the `datasets` package and network access: pip install datasets") from None
    try:
        stream = datasets.load_dataset(dataset, config, revision=revision, split=split, streaming=True)
        texts = [row[text_field] for row in itertools.islice(stream, max_documents)]
    except Exception as err:  # offline, unknown id or revision, missing field: one line, not a traceback
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise SourceUnavailable(f"{where} could not be streamed (offline?): {type(err).__name__}: {first}") from err
    return pl.DataFrame({"id": [f"{dataset}:{i}" for i in range(len(texts))], "text": texts})
