"""Reading a tabular file into a DataFrame, with clear errors for everything that goes wrong."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import stat
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from ..errors import DatasetError
from .model import FORMAT_LABEL
from .options import DEFAULT_SEP, SNIFF_BYTES, ReadOptions, check_tabular_json

_TEXT_FORMATS = {"csv", "tsv", "json", "jsonl"}
_SNIFF_BYTES = SNIFF_BYTES


def _have_openpyxl() -> bool:
    return importlib.util.find_spec("openpyxl") is not None


def _unreadable(path: Path, fmt: str, reason: str, hint: str = "") -> DatasetError:
    message = f"Cannot read {path} as {FORMAT_LABEL.get(fmt, fmt)}: {reason}."
    return DatasetError(f"{message} {hint}".strip())


def _sniff(path: Path, fmt: str, encoding: str | None = None) -> None:
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
        if b"\x00" in head and not (encoding or "").lower().startswith("utf-16"):
            if _looks_utf16(head):
                raise _unreadable(
                    path,
                    fmt,
                    "it is UTF-16 text",
                    "Give its encoding: `agentforge datasets add PATH --encoding utf-16`, "
                    "encoding='utf-16' in Python.",
                )
            actual = _binary_kind(head)
            raise _unreadable(
                path,
                fmt,
                f"it is a binary file ({actual}), not text",
                "If it is Parquet or Excel, give it the matching extension (.parquet, .xlsx).",
            )
        try:
            head.decode(encoding or "utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not merely a character cut at the sniff boundary
                raise _unreadable(
                    path,
                    fmt,
                    f"it is not {encoding or 'UTF-8'} text (byte {exc.start})",
                    "Give its encoding: `agentforge datasets add PATH --encoding latin-1` "
                    "(or cp1252, utf-16 ...), encoding='latin-1' in Python.",
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


def _looks_utf16(head: bytes) -> bool:
    """A UTF-16 byte-order mark, or text whose every other byte is NUL (ASCII in UTF-16)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    sample = head[:2048]
    even, odd = sample[0::2], sample[1::2]
    return len(sample) >= 4 and (even.count(0) > 0.9 * len(even) or odd.count(0) > 0.9 * len(odd))


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
            path,
            fmt,
            f"it is not {exc.encoding} text ({exc.reason})",
            "Give its encoding with --encoding (encoding= in Python), e.g. latin-1.",
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


def read_table(
    path: str | os.PathLike[str],
    fmt: str,
    nrows: int | None = None,
    options: ReadOptions | None = None,
    *,
    follow_symlinks: bool = True,
) -> pd.DataFrame:
    """Read a file of format ``fmt`` into a DataFrame; ``nrows`` reads only the first rows
    (without reading the rest of the file, except for plain JSON and Excel). ``options`` are
    used as given (see :func:`options.sniff_options` to fill them in). With
    ``follow_symlinks=False`` the file is opened without following a symbolic link and must be
    a regular file (stored copies: nothing may redirect the host to another file)."""
    p = Path(path)
    if nrows is not None and nrows < 0:
        raise DatasetError(f"nrows must be >= 0, not {nrows}.")
    opts = (options or ReadOptions()).validated(fmt)
    _sniff(p, fmt, opts.encoding)
    with _translate_errors(p, fmt), warnings.catch_warnings(), _source(p, follow_symlinks) as src:
        warnings.simplefilter("ignore")  # dtype and date-parsing chatter, not actionable here
        return _read(src, p, fmt, nrows, opts)


@contextlib.contextmanager
def _source(path: Path, follow_symlinks: bool) -> Iterator[Path | BinaryIO]:
    if follow_symlinks:
        yield path
        return
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise DatasetError(
            f"Cannot open {path} without following links ({exc.strerror}): a stored dataset "
            "must be a regular file in the state's data directory. Remove the dataset and add "
            "it again."
        ) from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DatasetError(
                f"{path} is not a regular file. Remove the dataset and add it again."
            )
        yield fh


def _read(
    src: Path | BinaryIO, path: Path, fmt: str, nrows: int | None, opts: ReadOptions
) -> pd.DataFrame:
    encoding = opts.encoding or "utf-8"
    if fmt in DEFAULT_SEP:
        sep = opts.sep or DEFAULT_SEP[fmt]
        return pd.read_csv(
            src, sep=sep, nrows=nrows, encoding=encoding, decimal=opts.decimal or "."
        )
    if fmt == "jsonl":
        return pd.read_json(src, lines=True, nrows=nrows, encoding=encoding)
    if fmt == "json":
        check_tabular_json(path, opts.encoding)
        df = pd.read_json(src, encoding=encoding)
        return df if nrows is None else df.head(nrows)
    if fmt == "parquet":
        return _read_parquet(src, nrows)
    if fmt == "excel":
        sheet = 0 if opts.sheet is None else opts.sheet
        return pd.read_excel(src, nrows=nrows, engine="openpyxl", sheet_name=sheet)
    raise DatasetError(f"Unknown dataset format {fmt!r}.")


def _read_parquet(path: Path | BinaryIO, nrows: int | None) -> pd.DataFrame:
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
