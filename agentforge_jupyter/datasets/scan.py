"""Whole-file passes: copying with a hash, counting rows, and scanning for the profile.

Profiling a large file from its first rows misleads (the maximum of an id column is the 10,000th
id, a trend shows only its start): `scan_table` reads the whole stored file once, in chunks,
and keeps a sample drawn from all of it, the exact row count and exact min/max of numeric
columns. Parquet answers rows and min/max from its metadata and is sampled by row groups.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .reading import _translate_errors, read_table

_COPY_CHUNK = 1 << 20
_CHUNK_ROWS = 200_000


def count_rows(path: str | os.PathLike[str], fmt: str) -> int:
    """Number of data rows without loading the file (see the module docstring)."""
    p = Path(path)
    with _translate_errors(p, fmt):
        if fmt in ("csv", "tsv", "jsonl"):
            lines = _count_lines(p)
            return max(lines - 1, 0) if fmt != "jsonl" else lines
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(p).metadata.num_rows)
        return len(read_table(p, fmt))


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(_COPY_CHUNK):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _copy_hashing(src: Path, dst: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(_COPY_CHUNK):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return size, digest.hexdigest()


@dataclass
class Scan:
    """One pass over a whole file: exact row count, a sample drawn from all of it (in file
    order), and exact min/max of its numeric columns."""

    rows: int
    sample: pd.DataFrame
    minmax: dict[str, tuple[float, float]] = field(default_factory=dict)


def scan_table(path: Path, fmt: str, sample_rows: int, seed: int = 0) -> Scan:
    """Stream a stored file once (chunked pandas for text, row groups for Parquet)."""
    rng = np.random.default_rng(seed)
    if fmt == "parquet":
        return _scan_parquet(path, sample_rows, rng)
    if fmt in ("csv", "tsv", "jsonl"):
        expected = max(count_rows(path, fmt), 1)
        with _translate_errors(path, fmt), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _scan_chunks(_chunks(path, fmt), expected, sample_rows, rng)
    frame = read_table(path, fmt, follow_symlinks=False)  # JSON, Excel: read whole anyway
    return Scan(len(frame), _draw(frame, sample_rows, rng), _minmax(frame, {}))


def _chunks(path: Path, fmt: str) -> Iterator[pd.DataFrame]:
    if fmt == "jsonl":
        yield from pd.read_json(path, lines=True, chunksize=_CHUNK_ROWS)
    else:
        yield from pd.read_csv(path, sep="," if fmt == "csv" else "\t", chunksize=_CHUNK_ROWS)


def _scan_chunks(
    chunks: Iterator[pd.DataFrame], expected: int, sample_rows: int, rng: np.random.Generator
) -> Scan:
    rows, parts = 0, []
    minmax: dict[str, tuple[float, float]] = {}
    for chunk in chunks:
        rows += len(chunk)
        minmax = _minmax(chunk, minmax)
        quota = max(1, round(sample_rows * len(chunk) / expected))
        parts.append(_draw(chunk, quota, rng))
    sample = pd.concat(parts) if parts else pd.DataFrame()
    return Scan(rows, _draw(sample, sample_rows, rng).sort_index(), minmax)


def _scan_parquet(path: Path, sample_rows: int, rng: np.random.Generator) -> Scan:
    parquet = pq.ParquetFile(path)
    meta = parquet.metadata
    groups = meta.num_row_groups
    picked = (
        sorted(set(np.linspace(0, groups - 1, num=min(groups, 16)).astype(int))) if groups else []
    )
    parts = [parquet.read_row_group(int(i)).to_pandas() for i in picked]
    frame = (
        pd.concat(parts, ignore_index=True)
        if parts
        else parquet.schema_arrow.empty_table().to_pandas()
    )
    minmax = _parquet_minmax(parquet) if groups > len(picked) else _minmax(frame, {})
    return Scan(meta.num_rows, _draw(frame, sample_rows, rng).sort_index(), minmax)


def _parquet_minmax(parquet: pq.ParquetFile) -> dict[str, tuple[float, float]]:
    """Min/max from the row-group statistics (no data read); columns without them are left out."""
    meta, found = parquet.metadata, {}
    for c in range(meta.num_columns):
        stats = [meta.row_group(g).column(c).statistics for g in range(meta.num_row_groups)]
        if not all(s is not None and s.has_min_max for s in stats):
            continue
        lows, highs = [s.min for s in stats], [s.max for s in stats]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in lows + highs):
            found[meta.schema.column(c).name] = (float(min(lows)), float(max(highs)))
    return found


def _draw(frame: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= n:
        return frame
    keep = np.sort(rng.choice(len(frame), size=n, replace=False))
    return frame.iloc[keep]


def _minmax(
    frame: pd.DataFrame, found: dict[str, tuple[float, float]]
) -> dict[str, tuple[float, float]]:
    for name in frame.columns:
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        low, high = column.min(), column.max()
        if pd.isna(low):
            continue
        key = str(name)
        old = found.get(key)
        low, high = float(low), float(high)
        found[key] = (min(old[0], low), max(old[1], high)) if old else (low, high)
    return found
