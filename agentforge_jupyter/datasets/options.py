"""How to read a file: options given by the user, or sniffed from the file's first bytes.

A European spreadsheet export (`;` between fields, `,` before decimals) read with the defaults
is one column of garbage; a latin-1 file is not UTF-8. Here: `ReadOptions` (sep, encoding,
decimal, sheet), sniffing of the delimiter (`csv.Sniffer` on complete lines, kept only when it
gives more columns than the format's default) and of a decimal comma (kept when it makes more
columns numeric), and the check that a JSON document is a table at all.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DatasetError

SNIFF_BYTES = 64 * 1024
_DELIMITERS = ",;\t|"
_SNIFF_ROWS = 200
DEFAULT_SEP = {"csv": ",", "tsv": "\t"}


@dataclass(frozen=True)
class ReadOptions:
    """Reading options; None means the format's default (or sniffed, for text files)."""

    sep: str | None = None
    encoding: str | None = None
    decimal: str | None = None
    sheet: str | int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ReadOptions:
        data = data or {}
        return cls(**{k: data[k] for k in ("sep", "encoding", "decimal", "sheet") if k in data})

    def needs_conversion(self, fmt: str) -> bool:
        """True when a plain reader of `fmt` would read the file differently."""
        if fmt in DEFAULT_SEP:
            sep_default = self.sep in (None, DEFAULT_SEP[fmt])
            return not (sep_default and self.decimal in (None, ".") and _is_utf8(self.encoding))
        if fmt == "jsonl":
            return not _is_utf8(self.encoding)
        if fmt == "excel":
            return self.sheet not in (None, 0)
        return False

    def validated(self, fmt: str) -> ReadOptions:
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise DatasetError(
                    f"Unknown text encoding {self.encoding!r}: use a Python codec name such as "
                    "'utf-8', 'latin-1', 'cp1252' or 'utf-16'."
                ) from None
        if self.sep is not None and (len(self.sep) != 1 or self.sep in "\r\n\"'"):
            raise DatasetError(
                f"Invalid separator {self.sep!r}: give one character, e.g. ';', ',', '|' or "
                "'\\t' for a tab."
            )
        if self.sheet is not None and fmt != "excel":
            raise DatasetError(f"sheet= only applies to Excel workbooks, not {fmt} files.")
        if (self.sep is not None or self.decimal is not None) and fmt not in DEFAULT_SEP:
            raise DatasetError(f"sep= and decimal= only apply to CSV/TSV files, not {fmt} files.")
        return self


def _is_utf8(encoding: str | None) -> bool:
    return encoding is None or codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def sniff_options(path: Path, fmt: str, given: ReadOptions) -> ReadOptions:
    """Fill in the separator and decimal mark of a CSV/TSV file from its first lines; resolve
    an Excel sheet given as text."""
    if fmt == "excel":
        return _resolve_sheet(path, given)
    if fmt not in DEFAULT_SEP:
        return given
    text = _head_text(path, given.encoding)
    if text is None:
        return given
    options = given
    if options.sep is None:
        options = replace(options, sep=_sniff_sep(text, DEFAULT_SEP[fmt]))
    if options.decimal is None and options.sep != ",":
        options = replace(options, decimal=_sniff_decimal(text, options.sep or ","))
    return options


def _resolve_sheet(path: Path, given: ReadOptions) -> ReadOptions:
    """Text names a sheet when the workbook has one of that name (year sheets: "2024"); else
    digits are a 0-based number. Front ends cannot tell the two apart, so they pass text."""
    sheet = given.sheet
    if not (isinstance(sheet, str) and sheet.isdigit()):
        return given
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = book.sheet_names
    except Exception:  # not a workbook, no openpyxl: the reader says what to do
        return given
    return given if sheet in names else replace(given, sheet=int(sheet))


def _head_text(path: Path, encoding: str | None) -> str | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return None  # the reader reports it with what to do
    cut = head.rfind(b"\n")
    head = head[: cut + 1] if cut > 0 else head  # complete lines only
    try:
        return head.decode(encoding or "utf-8-sig")
    except (UnicodeDecodeError, LookupError):
        return None  # reported by the reader with what to do


def _columns(text: str, sep: str, decimal: str = ".") -> pd.DataFrame | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, nrows=_SNIFF_ROWS)
    except Exception:  # any parse failure: this candidate does not fit
        return None


def _sniff_sep(text: str, default: str) -> str:
    try:
        sniffed = csv.Sniffer().sniff(text, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return default
    if sniffed == default:
        return default
    base, other = _columns(text, default), _columns(text, sniffed)
    if other is None:
        return default
    if base is None or other.shape[1] > base.shape[1]:
        return sniffed
    return default


def _sniff_decimal(text: str, sep: str) -> str:
    point, comma = _columns(text, sep, "."), _columns(text, sep, ",")
    if point is None or comma is None:
        return "."
    numeric = pd.api.types.is_numeric_dtype
    with_point = sum(numeric(point[c]) for c in point.columns)
    with_comma = sum(numeric(comma[c]) for c in comma.columns)
    return "," if with_comma > with_point else "."


def check_tabular_json(path: Path, encoding: str | None = None) -> None:
    """Refuse a JSON document that is not a table (an object of settings, a scalar ...)."""
    try:
        with open(path, encoding=encoding or "utf-8-sig") as fh:
            document = json.load(fh)
    except (ValueError, UnicodeDecodeError, OSError):
        return  # the reader reports invalid JSON with its own message
    problem = _not_a_table(document)
    if problem:
        raise DatasetError(
            f"{path} is a JSON document, not a table: {problem}. A table is an array of records "
            '([{"col": 1}, {"col": 2}]) or an object of columns ({"col": [1, 2]}); '
            "for one record per line use JSON Lines (.jsonl)."
        )


def _not_a_table(document: Any) -> str | None:
    if isinstance(document, list):
        if document and not all(isinstance(r, (dict, list)) for r in document):
            return "it is an array of single values, not of records"
        return None
    if not isinstance(document, dict):
        return f"it holds a single {type(document).__name__}"
    keys = ", ".join(map(repr, list(document)[:5]))
    scalars = [k for k, v in document.items() if not isinstance(v, (dict, list))]
    if scalars:
        return f"its top-level keys ({keys}) hold single values such as {scalars[0]!r}"
    columns = [v for v in document.values() if isinstance(v, dict)]
    nested = any(isinstance(x, (dict, list)) for col in columns for x in col.values())
    if nested or len({frozenset(c) for c in columns}) > 1:
        return f"its top-level keys ({keys}) hold nested objects, not columns of one table"
    lengths = {len(v) for v in document.values() if isinstance(v, list)}
    if len(lengths) > 1:
        return "its column arrays have different lengths"
    return None
