"""DataFrames across the boundary as Parquet: what goes in, and what the host accepts back.

In: any DataFrame a user can build either crosses or raises a clear TransferError; columns
Arrow cannot store (an object column mixing lists, strings and None) cross as text with missing
values kept missing; `DataFrame.attrs` (seen: a database URL with its password) are dropped
unless asked for, and the caller is told.

Out: the file was written by hostile code. Its size is checked from the Parquet footer (rows,
columns, uncompressed bytes) before any data is decoded; dtypes are rebuilt from the Arrow
schema through an allow-list; pandas metadata, field metadata and extension types written in the
sandbox are ignored (they turned an int column into period[D], and a crafted time zone made
pandas open a host file). Only the names of the index columns are taken from the pandas
metadata, after checking them against the schema.
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .workspace import TransferError

_FIXED_OFFSET = re.compile(r"^[+-](0\d|1[0-4]):[0-5]\d$")


@dataclass(frozen=True)
class FrameLimits:
    max_rows: int
    max_columns: int
    max_bytes: int


# ----- host -> sandbox ---------------------------------------------------------------------
def frame_to_parquet(frame: pd.DataFrame, keep_attrs: bool = False) -> tuple[bytes, list[str]]:
    """Parquet bytes for `frame`, and notes on what was changed on the way."""
    if not isinstance(frame, pd.DataFrame):
        raise TransferError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    notes: list[str] = []
    out = parquet_ready(frame, notes)
    if frame.attrs:
        if keep_attrs:
            out.attrs = dict(frame.attrs)
            notes.append(f"DataFrame.attrs kept ({', '.join(map(repr, frame.attrs))})")
        else:
            notes.append(
                f"DataFrame.attrs dropped ({', '.join(map(repr, frame.attrs))}): they can hold "
                "secrets; pass keep_attrs=True (--keep-attrs) to send them"
            )
    if out.columns.duplicated().any():
        dupes = sorted(set(out.columns[out.columns.duplicated()]))
        raise TransferError(f"the DataFrame has duplicate column names {dupes}; rename them first")
    buffer = io.BytesIO()
    try:
        out.to_parquet(buffer)
    except Exception as exc:  # pyarrow raises many types for what it cannot store
        raise TransferError(f"the DataFrame cannot be stored as Parquet: {exc}") from exc
    return buffer.getvalue(), notes


def parquet_ready(frame: pd.DataFrame, notes: list[str] | None = None) -> pd.DataFrame:
    """A copy Parquet can store: string column names, object columns that mix types (a stray
    "twelve" among integers, lists among strings) as text with missing values kept, and no
    `attrs` (they can hold secrets)."""
    out = frame.copy()
    out.attrs = {}
    out.columns = [str(c) for c in out.columns]
    for position, column in enumerate(out.columns):
        series = out.iloc[:, position]
        if series.dtype != "object":
            continue
        try:
            pa.array(series, from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):
            out.isetitem(position, series.map(_as_text))
            if notes is not None:
                notes.append(f"column {column!r} mixes types and was sent as text")
    return out


def _as_text(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


# ----- sandbox -> host ---------------------------------------------------------------------
def frame_from_parquet(data: bytes, variable: str, limits: FrameLimits) -> pd.DataFrame:
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        _check_footer(parquet.metadata, variable, limits)
        schema = parquet.schema_arrow
        for field in schema:
            _check_type(field.name, _storage(field.type), variable)
        table = parquet.read()
    except TransferError:
        raise
    except Exception as exc:  # a hostile file can make pyarrow raise almost anything
        raise TransferError(f"{variable!r} came back as an unreadable Parquet file: {exc}") from exc
    index = _index_columns(schema)
    clean = pa.table(
        [_plain(column) for column in table.columns], names=[f.name for f in table.schema]
    )
    try:
        frame = clean.to_pandas(ignore_metadata=True)
    except Exception as exc:
        raise TransferError(f"{variable!r} could not be rebuilt on the host: {exc}") from exc
    if index:
        frame = frame.set_index(index)
        frame.index.names = [None if n.startswith("__index_level_") else n for n in index]
    return frame


def _check_footer(meta: pq.FileMetaData, variable: str, limits: FrameLimits) -> None:
    rows, columns = meta.num_rows, meta.num_columns
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    group_rows = sum(meta.row_group(i).num_rows for i in range(meta.num_row_groups))
    problems = []
    if rows > limits.max_rows or group_rows > limits.max_rows:
        problems.append(f"{max(rows, group_rows)} rows (limit {limits.max_rows})")
    if columns > limits.max_columns:
        problems.append(f"{columns} columns (limit {limits.max_columns})")
    if size > limits.max_bytes:
        problems.append(f"{size} bytes uncompressed (limit {limits.max_bytes})")
    if problems:
        raise TransferError(
            f"{variable!r} is too large to bring back: {', '.join(problems)}. Reduce it in the "
            "sandbox (filter, aggregate, sample) or raise SandboxConfig.max_parquet_rows, "
            "max_parquet_columns or max_transfer_mb"
        )


def _storage(kind: pa.DataType) -> pa.DataType:
    return kind.storage_type if isinstance(kind, pa.ExtensionType) else kind


def _plain(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if isinstance(column.type, pa.ExtensionType):
        return pa.chunked_array([c.storage for c in column.chunks], type=column.type.storage_type)
    return column


_SCALAR_CHECKS = (
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_boolean,
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_binary,
    pa.types.is_large_binary,
    pa.types.is_date,
    pa.types.is_time,
    pa.types.is_duration,
    pa.types.is_decimal,
    pa.types.is_null,
)


def _check_type(name: str, kind: pa.DataType, variable: str) -> None:
    if any(check(kind) for check in _SCALAR_CHECKS):
        return
    if pa.types.is_timestamp(kind):
        if kind.tz is not None and not _known_zone(kind.tz):
            raise TransferError(
                f"column {name!r} of {variable!r} has an unknown time zone {kind.tz!r}; refused"
            )
        return
    if pa.types.is_dictionary(kind):
        _check_type(name, kind.value_type, variable)
        return
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        _check_type(name, _storage(kind.value_type), variable)
        return
    raise TransferError(
        f"column {name!r} of {variable!r} has the Arrow type {kind}, which is not brought back "
        "(allowed: numbers, booleans, text, bytes, dates, times, timestamps, durations, "
        "decimals, categories and lists of those); convert it in the sandbox first"
    )


def _known_zone(zone: str) -> bool:
    return zone == "UTC" or bool(_FIXED_OFFSET.match(zone)) or zone in _zones()


@functools.lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    import zoneinfo

    return frozenset(zoneinfo.available_timezones())


def _index_columns(schema: pa.Schema) -> list[str]:
    """The index column names from the pandas metadata, only if they are real columns."""
    raw = (schema.metadata or {}).get(b"pandas")
    try:
        names = json.loads(raw)["index_columns"] if raw else []
    except (ValueError, KeyError, TypeError):
        return []
    if not isinstance(names, list) or len(names) > 16:
        return []
    present = set(schema.names)
    picked = [n for n in names if isinstance(n, str) and n in present]
    return picked if len(set(picked)) == len(picked) else []
