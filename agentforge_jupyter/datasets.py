"""Datasets: a registry of tabular files copied into ``<state>/data/``, with preview and profile.

Formats are detected by extension: CSV, TSV, JSON (records array or column object), JSON Lines,
Parquet and Excel ``.xlsx`` (needs ``openpyxl``). Adding a file validates it by reading a bounded
sample, copies it to ``data/<name>.<ext>`` while hashing it, and records a :class:`DatasetInfo`
in ``datasets.json`` (see :mod:`agentforge_jupyter.state`).

Large files. Row counts never load a whole file: CSV/TSV/JSONL count line breaks in binary
chunks (exact unless a quoted CSV field spans lines; files that fit in one sample are counted
exactly), Parquet reads its footer. Profiles read only the first ``sample_rows`` rows (10,000 by
default), so profiling a 1 GB file costs about the same as a 1 MB one. Plain JSON and Excel
cannot be read partially and are loaded whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import math
import os
import re
import uuid
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from agentforge_jupyter.errors import DatasetError
from agentforge_jupyter.state import StateDir

__all__ = [
    "DEFAULT_SAMPLE_ROWS",
    "FORMATS",
    "SAMPLE_NAME",
    "SAMPLE_PATH",
    "DatasetInfo",
    "DatasetRegistry",
    "DuplicateDatasetError",
    "UnknownDatasetError",
    "count_rows",
    "detect_format",
    "profile_frame",
    "profile_text",
    "read_table",
    "validate_name",
]

SAMPLE_NAME = "sales_q3"
SAMPLE_PATH = Path(__file__).with_name("samples") / "sales_q3.jsonl"
DEFAULT_SAMPLE_ROWS = 10_000
MAX_NAME_LENGTH = 64

#: extension -> format
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "excel",
    ".xlsm": "excel",
}
#: format -> extension of the stored copy
STORED_EXTENSION = {
    "csv": "csv",
    "tsv": "tsv",
    "json": "json",
    "jsonl": "jsonl",
    "parquet": "parquet",
    "excel": "xlsx",
}
FORMAT_LABEL = {
    "csv": "CSV",
    "tsv": "TSV",
    "json": "JSON",
    "jsonl": "JSON Lines",
    "parquet": "Parquet",
    "excel": "Excel (.xlsx)",
}
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_TEXT_FORMATS = {"csv", "tsv", "json", "jsonl"}
_SNIFF_BYTES = 64 * 1024
_COPY_CHUNK = 1 << 20
_ADD_HINT = "Add one with `agentforge datasets add PATH`."


class DuplicateDatasetError(DatasetError):
    """A dataset with this name is already registered."""


class UnknownDatasetError(DatasetError):
    """No dataset is registered under this name."""


# --------------------------------------------------------------------------- registry entry


@dataclass
class DatasetInfo:
    """One registered dataset (an item of ``datasets.json``)."""

    id: str
    name: str
    format: str
    file: str  # relative to the state directory, POSIX separators: "data/<name>.<ext>"
    size: int
    sha256: str
    rows: int
    columns: list[str] = field(default_factory=list)
    dtypes: dict[str, str] = field(default_factory=dict)
    added: str = ""  # ISO 8601, UTC
    source: str = ""  # the path it was added from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetInfo:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# --------------------------------------------------------------------------- names and formats


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid dataset name, else raise :class:`DatasetError`."""
    rule = (
        "names start with a letter and use only letters, digits, '_', '-' and '.' "
        f"(at most {MAX_NAME_LENGTH} characters)"
    )
    if not isinstance(name, str) or not name:
        raise DatasetError(f"A dataset name cannot be empty: {rule}. Pass one with --name NAME.")
    problem = None
    if len(name) > MAX_NAME_LENGTH:
        problem = f"is {len(name)} characters long"
    elif "/" in name or "\\" in name or ".." in name:
        problem = "looks like a path"
    elif not _NAME_RE.match(name) or name.endswith("."):
        problem = "has characters that are not allowed"
    if problem:
        raise DatasetError(f"Invalid dataset name {name!r}: it {problem}; {rule}. Choose another.")
    return name


def default_name(path: Path) -> str:
    """A valid name derived from a file name (``My Sales 2024.csv`` -> ``My_Sales_2024``)."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-").replace("..", "_")
    if not name or not name[0].isalpha():
        name = f"d_{name}" if name else "dataset"
    return name[:MAX_NAME_LENGTH].rstrip(".")


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format for a file name, by extension."""
    suffix = Path(path).suffix.lower()
    if suffix in FORMATS:
        return FORMATS[suffix]
    known = ", ".join(sorted(FORMATS))
    if suffix == ".xls":
        hint = "Old .xls workbooks are not supported: save it as .xlsx or CSV."
    else:
        hint = "Convert it to one of these, or rename it if the extension is wrong."
    raise DatasetError(
        f"Cannot tell the format of {path}: extension {suffix or '(none)'!r} is not one of "
        f"{known}. {hint}"
    )


# --------------------------------------------------------------------------- reading


def _have_openpyxl() -> bool:
    return importlib.util.find_spec("openpyxl") is not None


def _unreadable(path: Path, fmt: str, reason: str, hint: str = "") -> DatasetError:
    message = f"Cannot read {path} as {FORMAT_LABEL.get(fmt, fmt)}: {reason}."
    return DatasetError(f"{message} {hint}".strip())


def _sniff(path: Path, fmt: str) -> None:
    """Cheap content checks before parsing: empty, binary-as-text, wrong magic numbers."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _unreadable(path, fmt, reason, "Check the file's permissions.") from exc
    if not head.strip():
        raise _unreadable(path, fmt, "the file is empty", "Add a file with data in it.")
    if fmt in _TEXT_FORMATS:
        if b"\x00" in head:
            actual = _binary_kind(head)
            raise _unreadable(
                path,
                fmt,
                f"it is a binary file ({actual}), not text",
                "If it is Parquet or Excel, give it the matching extension (.parquet, .xlsx).",
            )
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not merely a character cut at the sniff boundary
                raise _unreadable(
                    path,
                    fmt,
                    f"it is not UTF-8 text (byte {exc.start})",
                    "Convert it to UTF-8 first, e.g. `iconv -f latin1 -t utf-8 IN > OUT`.",
                ) from exc
    elif fmt == "parquet" and not head.startswith(b"PAR1"):
        raise _unreadable(path, fmt, "it does not start with the Parquet magic bytes 'PAR1'")
    elif fmt == "excel":
        if not _have_openpyxl():
            raise DatasetError(
                f"Reading Excel files ({path}) needs the openpyxl package: "
                "`pip install openpyxl`, or save the sheet as CSV."
            )
        if not head.startswith(b"PK"):
            raise _unreadable(path, fmt, "it is not an .xlsx workbook (not a zip archive)")


def _binary_kind(head: bytes) -> str:
    if head.startswith(b"PAR1"):
        return "Parquet"
    if head.startswith(b"PK"):
        return "zip archive, maybe .xlsx"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    return "contains NUL bytes"


@contextlib.contextmanager
def _translate_errors(path: Path, fmt: str) -> Iterator[None]:
    """Turn the many exceptions of pandas/pyarrow/openpyxl into one clear DatasetError."""
    try:
        yield
    except DatasetError:
        raise
    except UnicodeDecodeError as exc:
        raise _unreadable(
            path, fmt, f"it is not UTF-8 text ({exc.reason})", "Convert it to UTF-8 first."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise _unreadable(path, fmt, "it has no columns (empty file)") from exc
    except pd.errors.ParserError as exc:
        raise _unreadable(path, fmt, f"it is not well-formed ({_first_line(exc)})") from exc
    except zipfile.BadZipFile as exc:
        raise _unreadable(path, fmt, f"the workbook is damaged ({_first_line(exc)})") from exc
    except MemoryError as exc:
        raise _unreadable(path, fmt, "it does not fit in memory", "Load it with nrows=N.") from exc
    except OSError as exc:
        raise _unreadable(path, fmt, exc.strerror or _first_line(exc)) from exc
    except ValueError as exc:
        raise _unreadable(path, fmt, _value_error_reason(path, fmt, exc)) from exc
    except Exception as exc:  # pyarrow, openpyxl: many unrelated exception types
        raise _unreadable(path, fmt, f"{type(exc).__name__}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _value_error_reason(path: Path, fmt: str, exc: ValueError) -> str:
    reason = _first_line(exc)
    if fmt == "json":
        hint = " (it looks like JSON Lines: rename it to .jsonl)" if _looks_like_jsonl(path) else ""
        return f"it is not valid JSON: {reason}{hint}"
    if fmt == "jsonl":
        return f"it is not valid JSON Lines, one JSON object per line: {reason}"
    return reason


def _looks_like_jsonl(path: Path) -> bool:
    import json

    try:
        with open(path, "rb") as fh:
            lines = [line for line in fh.read(_SNIFF_BYTES).splitlines() if line.strip()][:3]
        return len(lines) >= 2 and all(isinstance(json.loads(line), dict) for line in lines[:2])
    except (OSError, ValueError):
        return False


def read_table(path: str | os.PathLike[str], fmt: str, nrows: int | None = None) -> pd.DataFrame:
    """Read a file of format ``fmt`` into a DataFrame; ``nrows`` reads only the first rows
    (without reading the rest of the file, except for plain JSON and Excel)."""
    p = Path(path)
    if nrows is not None and nrows < 0:
        raise DatasetError(f"nrows must be >= 0, not {nrows}.")
    _sniff(p, fmt)
    with _translate_errors(p, fmt), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dtype and date-parsing chatter, not actionable here
        if fmt in ("csv", "tsv"):
            return pd.read_csv(p, sep="," if fmt == "csv" else "\t", nrows=nrows)
        if fmt == "jsonl":
            return pd.read_json(p, lines=True, nrows=nrows)
        if fmt == "json":
            df = pd.read_json(p)
            return df if nrows is None else df.head(nrows)
        if fmt == "parquet":
            return _read_parquet(p, nrows)
        if fmt == "excel":
            return pd.read_excel(p, nrows=nrows, engine="openpyxl")
    raise DatasetError(f"Unknown dataset format {fmt!r}.")


def _read_parquet(path: Path, nrows: int | None) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    if nrows is None:
        return parquet.read().to_pandas()
    batches, have = [], 0
    if nrows:
        for batch in parquet.iter_batches(batch_size=nrows):
            batches.append(batch.slice(0, nrows - have))
            have += batches[-1].num_rows
            if have >= nrows:
                break
    table = pa.Table.from_batches(batches, schema=parquet.schema_arrow)
    return table.to_pandas()


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


# --------------------------------------------------------------------------- profile


def profile_frame(
    df: pd.DataFrame, *, name: str = "dataframe", rows: int | None = None
) -> dict[str, Any]:
    """A compact, JSON-serialisable description of ``df`` (a sample of ``rows`` rows)."""
    total = len(df) if rows is None else int(rows)
    return {
        "name": name,
        "rows": total,
        "sampled_rows": len(df),
        "sampled": len(df) < total,
        "columns": [_profile_column(df.iloc[:, i]) for i in range(df.shape[1])],
    }


def _profile_column(series: pd.Series) -> dict[str, Any]:
    values = series.dropna()
    nulls = len(series) - len(values)
    column: dict[str, Any] = {
        "name": str(series.name),
        "dtype": str(series.dtype),
        "kind": "text",
        "nulls": int(nulls),
        "null_fraction": round(nulls / len(series), 4) if len(series) else 0.0,
        "unique": _nunique(values),
        "examples": _examples(values),
    }
    if values.empty:
        column["note"] = "all values are null in the sample"
        return column
    if pd.api.types.is_bool_dtype(series.dtype):
        column["kind"] = "boolean"
    elif pd.api.types.is_numeric_dtype(series.dtype):
        column["kind"] = "numeric"
        column.update(_numeric_stats(values))
    elif pd.api.types.is_datetime64_any_dtype(series.dtype):
        column["kind"] = "datetime"
        column.update(_datetime_range(values))
    else:
        _profile_object_column(values, column)
    return column


def _profile_object_column(values: pd.Series, column: dict[str, Any]) -> None:
    if values.map(lambda v: isinstance(v, bool)).all() or _is_bool_text(values):
        column["kind"] = "boolean"
        return
    numbers = pd.to_numeric(values.map(_numeric_candidate), errors="coerce")
    parsed = int(numbers.notna().sum())
    if parsed and parsed >= 0.9 * len(values):
        column["kind"] = "numeric"
        column.update(_numeric_stats(numbers.dropna()))
        bad = values[numbers.isna()]
        if len(bad):
            column["mixed_types"] = True
            column["non_numeric"] = len(bad)
            column["non_numeric_examples"] = _examples(bad)
            column["note"] = (
                f"mostly numeric but {len(bad)} value(s) are not numbers; convert with "
                "pd.to_numeric(df[col], errors='coerce') before arithmetic"
            )
        elif values.map(lambda v: isinstance(v, str)).any():
            column["note"] = "numbers stored as text; convert with pd.to_numeric"
        return
    dates = _parse_dates(values)
    if dates is not None:
        column["kind"] = "datetime"
        column.update(_datetime_range(dates.dropna()))
        column["note"] = "dates stored as text; parse with pd.to_datetime"
        if dates.isna().any():
            column["unparsed"] = int(dates.isna().sum())
        return
    unique = column["unique"]
    if unique <= 50 or unique <= 0.2 * len(values):
        column["kind"] = "categorical"
        column["top"] = _top_values(values)


def _numeric_candidate(value: Any) -> Any:
    # Booleans are not numbers for profiling; anything non-scalar cannot be one.
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return value


def _is_bool_text(values: pd.Series) -> bool:
    sample = values.head(1000)
    if not sample.map(lambda v: isinstance(v, str)).all():
        return False
    return set(sample.str.strip().str.lower().unique()) <= {"true", "false"}


_DATE_HINT = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{4}-\d{2}|[A-Za-z]{3,9}\.? \d{1,2}")


def _parse_dates(values: pd.Series) -> pd.Series | None:
    """Parsed dates if more than 90% of a sample of string values parse as dates, else None."""
    sample = values.head(500)
    if not sample.map(lambda v: isinstance(v, str)).all():
        return None
    hinted = sample.map(lambda v: bool(_DATE_HINT.search(v))).mean()
    if hinted < 0.9:
        return None
    for fmt in ("ISO8601", "mixed"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                parsed = pd.to_datetime(sample, errors="coerce", format=fmt)
            except (ValueError, TypeError, OverflowError):
                continue
            if parsed.notna().mean() > 0.9:
                return pd.to_datetime(values, errors="coerce", format=fmt)
    return None


def _nunique(values: pd.Series) -> int:
    try:
        return int(values.nunique())
    except TypeError:  # unhashable cells such as lists from JSON
        return int(values.map(repr).nunique())


def _short(value: Any, limit: int = 40) -> str:
    if isinstance(value, pd.Timestamp):
        text = value.date().isoformat() if value == value.normalize() else value.isoformat()
    elif isinstance(value, float) and value.is_integer():
        text = str(value)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _examples(values: pd.Series, limit: int = 5) -> list[str]:
    seen: list[str] = []
    for value in values.head(1000):
        text = _short(value)
        if text not in seen:
            seen.append(text)
            if len(seen) == limit:
                break
    return seen


def _top_values(values: pd.Series, limit: int = 5) -> list[list[Any]]:
    counts = values.map(_short).value_counts().head(limit)
    return [[str(value), int(count)] for value, count in counts.items()]


def _number(value: Any) -> float | int | None:
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return float(f"{value:.6g}")


def _numeric_stats(values: pd.Series) -> dict[str, Any]:
    numbers = values.astype("float64")
    std = numbers.std() if len(numbers) > 1 else 0.0
    return {
        "min": _number(numbers.min()),
        "max": _number(numbers.max()),
        "mean": _number(numbers.mean()),
        "std": _number(std),
    }


def _datetime_range(values: pd.Series) -> dict[str, Any]:
    if values.empty:
        return {"min": None, "max": None}
    return {"min": _short(values.min(), 64), "max": _short(values.max(), 64)}


def profile_text(profile: dict[str, Any]) -> str:
    """A compact text rendering of :func:`profile_frame` output, for prompts."""
    columns = profile.get("columns", [])
    head = f"Dataset '{profile.get('name')}'"
    if profile.get("format"):
        head += f" ({profile['format']})"
    head += f": {profile.get('rows', 0):,} rows x {len(columns)} columns"
    if profile.get("sampled"):
        head += f" (profiled from the first {profile.get('sampled_rows', 0):,} rows)"
    lines = [head + "."]
    for column in columns:
        lines.append(_column_line(column))
    return "\n".join(lines)


def _column_line(column: dict[str, Any]) -> str:
    parts = [f"- {column['name']}: {column['dtype']}, {column['kind']}"]
    kind = column["kind"]
    if kind == "numeric" and "min" in column:
        parts.append(
            f"min {column['min']}, max {column['max']}, mean {column['mean']}, std {column['std']}"
        )
    elif kind == "datetime" and column.get("min"):
        parts.append(f"{column['min']} .. {column['max']}")
    parts.append(f"{column['unique']} unique")
    if column["nulls"]:
        parts.append(f"{column['nulls']} nulls ({column['null_fraction']:.1%})")
    if column.get("top"):
        parts.append("top: " + ", ".join(f"{v} ({c})" for v, c in column["top"]))
    elif column.get("examples") and kind in ("text", "categorical", "boolean"):
        parts.append("e.g. " + ", ".join(column["examples"][:3]))
    if column.get("mixed_types"):
        examples = ", ".join(repr(v) for v in column.get("non_numeric_examples", []))
        parts.append(
            f"MIXED TYPES: {column['non_numeric']} non-numeric value(s) e.g. {examples}; "
            "use pd.to_numeric(..., errors='coerce')"
        )
    if column.get("note") and not column.get("mixed_types"):
        parts.append(column["note"])
    return "; ".join(parts)


# --------------------------------------------------------------------------- registry


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


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


class DatasetRegistry:
    """Registered datasets of one state directory (``datasets.json`` + ``data/``)."""

    def __init__(self, store: StateDir | None = None) -> None:
        self.store = store if store is not None else StateDir()
        self._doc = self.store.document("datasets")

    def __repr__(self) -> str:
        return f"DatasetRegistry({self.store!r})"

    # -- queries

    def _items(self) -> dict[str, Any]:
        return self._doc.read()["items"]

    def names(self) -> list[str]:
        return sorted(self._items())

    def list(self) -> list[DatasetInfo]:
        """All datasets, sorted by name."""
        items = self._items()
        return [DatasetInfo.from_dict(items[name]) for name in sorted(items)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._items()

    def get(self, name: str) -> DatasetInfo:
        items = self._items()
        if name not in items:
            known = ", ".join(sorted(items)) or "(none)"
            raise UnknownDatasetError(f"No dataset named {name!r}. Known: {known}. {_ADD_HINT}")
        return DatasetInfo.from_dict(items[name])

    def _stored_path(self, info: DatasetInfo) -> Path:
        # datasets.json may be edited by hand: never follow an entry outside data/.
        data_dir = (self.store.root / "data").resolve()
        path = (self.store.root / info.file).resolve()
        if path.parent != data_dir:
            raise DatasetError(
                f"Dataset {info.name!r} points outside {data_dir} ({info.file!r}) in "
                f"{self.store.datasets_json}. Fix or remove that entry."
            )
        return path

    def path(self, name: str) -> Path:
        """Absolute path of the stored copy."""
        info = self.get(name)
        path = self._stored_path(info)
        if not path.is_file():
            raise DatasetError(
                f"Dataset {name!r} is registered but its file {path} is missing. Remove it "
                f"(`agentforge datasets remove {name}`) and add it again."
            )
        return path

    def load(self, name: str, nrows: int | None = None) -> pd.DataFrame:
        info = self.get(name)
        return read_table(self.path(name), info.format, nrows=nrows)

    def preview(self, name: str, n: int = 10) -> pd.DataFrame:
        """The first ``n`` rows."""
        return self.load(name, nrows=n)

    def profile(self, name: str, sample_rows: int = DEFAULT_SAMPLE_ROWS) -> dict[str, Any]:
        """A compact JSON-serialisable profile from the first ``sample_rows`` rows."""
        if sample_rows < 1:
            raise DatasetError(f"sample_rows must be >= 1, not {sample_rows}.")
        info = self.get(name)
        sample = self.load(name, nrows=sample_rows)
        profile = profile_frame(sample, name=name, rows=max(info.rows, len(sample)))
        profile["format"] = info.format
        return profile

    # -- changes

    def add(self, path: str | os.PathLike[str], name: str | None = None) -> DatasetInfo:
        """Validate ``path``, copy it to ``data/<name>.<ext>`` and register it."""
        src = Path(path).expanduser().absolute()
        if not src.exists():
            raise DatasetError(f"No file at {src}. Check the path and try again.")
        if not src.is_file():
            raise DatasetError(f"{src} is not a regular file; give the path of a data file.")
        fmt = detect_format(src)
        name = validate_name(name) if name is not None else validate_name(default_name(src))
        self._check_free(name, self._items())
        sample = read_table(src, fmt, nrows=DEFAULT_SAMPLE_ROWS)
        if sample.shape[1] == 0:
            raise _unreadable(src, fmt, "it has no columns")
        if len(sample) == 0:
            raise _unreadable(src, fmt, "it has no data rows", "Add a file with data in it.")
        exact = fmt in ("json", "excel") or len(sample) < DEFAULT_SAMPLE_ROWS
        rows = len(sample) if exact else count_rows(src, fmt)

        ext = STORED_EXTENSION[fmt]
        dest = self.store.data_dir / f"{name}.{ext}"
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            size, sha = _copy_hashing(src, tmp)
            info = DatasetInfo(
                id=uuid.uuid4().hex[:12],
                name=name,
                format=fmt,
                file=dest.relative_to(self.store.root).as_posix(),
                size=size,
                sha256=sha,
                rows=rows,
                columns=[str(c) for c in sample.columns],
                dtypes={str(c): str(t) for c, t in sample.dtypes.items()},
                added=_now(),
                source=str(src),
            )
            with self._doc.update() as data:
                self._check_free(name, data["items"])
                os.replace(tmp, dest)
                data["items"][name] = info.to_dict()
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return info

    def _check_free(self, name: str, items: dict[str, Any]) -> None:
        # Case-insensitive: "Sales" and "sales" would share a file on macOS and Windows.
        clash = next((k for k in items if k.lower() == name.lower()), None)
        if clash is None:
            return
        existing = items[clash]
        raise DuplicateDatasetError(
            f"A dataset named {clash!r} already exists (added {existing.get('added', '?')} from "
            f"{existing.get('source', '?')}). Choose another name with --name NAME, or remove it "
            f"first with `agentforge datasets remove {clash}`."
        )

    def remove(self, name: str) -> DatasetInfo:
        """Unregister ``name`` and delete its stored copy; returns the removed entry."""
        with self._doc.update() as data:
            if name not in data["items"]:
                self.get(name)  # raises the helpful UnknownDatasetError
            info = DatasetInfo.from_dict(data["items"].pop(name))
        # After the entry is gone: a crash here leaves an orphan file, never a dangling entry.
        with contextlib.suppress(FileNotFoundError):
            self._stored_path(info).unlink()
        return info

    @classmethod
    def opened(cls, store: StateDir | None = None) -> DatasetRegistry:
        """The registry of `store`; a state directory used for the first time gets the sample
        registered (later, removing it sticks)."""
        registry = cls(store)
        if not registry.store.datasets_json.exists():
            registry.ensure_sample()
        return registry

    def ensure_sample(self) -> DatasetInfo:
        """Register the packaged ``sales_q3`` sample if it is not registered yet."""
        try:
            return self.get(SAMPLE_NAME)
        except UnknownDatasetError:
            pass
        try:
            return self.add(SAMPLE_PATH, name=SAMPLE_NAME)
        except DuplicateDatasetError:  # another process registered it meanwhile
            return self.get(SAMPLE_NAME)
