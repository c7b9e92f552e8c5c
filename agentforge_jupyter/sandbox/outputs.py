"""Turn a kernel's iopub messages into a safe, capped ExecutionResult.

Everything here treats the kernel as hostile: only PNG (checked), plain text and our table JSON
(validated and rebuilt) are kept; HTML, JavaScript, SVG, widgets and anything else are dropped,
and every size is capped.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .result import PNG, TABLE, TEXT, Display, ErrorInfo

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_TABLE_ROWS = 50
MAX_TABLE_COLUMNS = 50
MAX_CELL_CHARS = 200
MAX_TEXT_DISPLAY_CHARS = 20_000
MAX_TRACEBACK_LINES = 200


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class Caps:
    output_chars: int = 100_000
    displays: int = 50
    png_bytes: int = 5_000_000


@dataclass
class OutputCollector:
    """Accumulates the outputs of one execution."""

    caps: Caps = field(default_factory=Caps)
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    displays: list[Display] = field(default_factory=list)
    error: ErrorInfo | None = None
    notes: list[str] = field(default_factory=list)
    received_chars: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    # The order outputs arrived in: ["stdout"|"stderr", chars kept] or ["display", index].
    sequence: list[list[Any]] = field(default_factory=list)
    _kept: dict[str, int] = field(default_factory=lambda: {"stdout": 0, "stderr": 0})

    def handle(self, msg: dict[str, Any]) -> None:
        kind = msg.get("msg_type") or msg.get("header", {}).get("msg_type")
        content = msg.get("content") or {}
        if not isinstance(content, dict):
            return
        if kind == "stream":
            self._stream(content)
        elif kind in ("display_data", "execute_result", "update_display_data"):
            self._display(content.get("data"))
        elif kind == "error":
            self._error(content)
        elif kind == "clear_output":
            self.displays.clear()
            self.sequence = [entry for entry in self.sequence if entry[0] != "display"]

    def _stream(self, content: dict[str, Any]) -> None:
        text = content.get("text")
        if not isinstance(text, str):
            return
        name = "stderr" if content.get("name") == "stderr" else "stdout"
        self.received_chars += len(text)
        room = self.caps.output_chars - self._kept[name]
        if room <= 0:
            self._drop(name, len(text))
            return
        kept = text[:room]
        getattr(self, name).append(kept)
        self._kept[name] += len(kept)
        if self.sequence and self.sequence[-1][0] == name:
            self.sequence[-1][1] += len(kept)
        else:
            self.sequence.append([name, len(kept)])
        if len(kept) < len(text):
            self._drop(name, len(text) - len(kept))

    def _drop(self, what: str, amount: int = 1) -> None:
        self.dropped[what] = self.dropped.get(what, 0) + amount

    def _display(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        if len(self.displays) >= self.caps.displays:
            self._drop("displays")
            return
        display = self._safe_display(data)
        if display is None:
            self._drop("unsafe or unsupported display")
        else:
            self.displays.append(display)
            self.sequence.append(["display", len(self.displays) - 1])

    def _safe_display(self, data: dict[str, Any]) -> Display | None:
        if PNG in data:
            png = checked_png(data[PNG], self.caps.png_bytes)
            if png is not None:
                return Display(PNG, png)
        if TABLE in data:
            table = checked_table(data[TABLE])
            if table is not None:
                return Display(TABLE, table)
        text = data.get(TEXT)
        if isinstance(text, str):
            return Display(TEXT, _cap(strip_ansi(text), MAX_TEXT_DISPLAY_CHARS))
        return None

    def _error(self, content: dict[str, Any]) -> None:
        traceback = content.get("traceback")
        lines = traceback if isinstance(traceback, list) else []
        self.error = ErrorInfo(
            name=_cap(str(content.get("ename", "Error")), 200),
            value=_cap(str(content.get("evalue", "")), 5_000),
            traceback=[_cap(strip_ansi(str(x)), 5_000) for x in lines[:MAX_TRACEBACK_LINES]],
        )

    def summary_notes(self) -> list[str]:
        notes = list(self.notes)
        for what, amount in sorted(self.dropped.items()):
            if what in ("stdout", "stderr"):
                notes.append(
                    f"{what} truncated: {amount} characters past the "
                    f"{self.caps.output_chars}-character cap were dropped"
                )
            else:
                notes.append(f"{amount} {what} output(s) dropped")
        return notes


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more]"


def checked_png(value: Any, max_bytes: int) -> str | None:
    """The base64 text of a real PNG within the size cap, else None."""
    if not isinstance(value, str) or len(value) > max_bytes * 4 // 3 + 8:
        return None
    try:
        raw = base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(_PNG_MAGIC) or len(raw) > max_bytes:
        return None
    return base64.b64encode(raw).decode("ascii")


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return _cap(str(value), MAX_CELL_CHARS)


def _str_list(value: Any, limit: int) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [_cap(str(x), MAX_CELL_CHARS) for x in value[:limit]]


def checked_table(value: Any) -> dict[str, Any] | None:
    """Rebuild a table from kernel JSON with only the expected fields, types and sizes."""
    if not isinstance(value, dict):
        return None
    columns = _str_list(value.get("columns"), MAX_TABLE_COLUMNS)
    rows = value.get("rows")
    if columns is None or not isinstance(rows, list):
        return None
    width = len(columns)
    clean_rows = []
    for row in rows[:MAX_TABLE_ROWS]:
        if not isinstance(row, list):
            return None
        cells = [_cell(x) for x in row[:width]]
        clean_rows.append(cells + [None] * (width - len(cells)))
    index = _str_list(value.get("index"), MAX_TABLE_ROWS) or [str(i) for i in range(len(rows))]
    dtypes = _str_list(value.get("dtypes"), MAX_TABLE_COLUMNS) or [""] * width
    return {
        "columns": columns,
        "index": (index + [""] * len(clean_rows))[: len(clean_rows)],
        "rows": clean_rows,
        "dtypes": (dtypes + [""] * width)[:width],
        "total_rows": _count(value.get("total_rows"), len(rows)),
        "total_columns": _count(value.get("total_columns"), width),
    }


def _count(value: Any, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default
    )


def table_to_text(table: dict[str, Any], max_rows: int = 20) -> str:
    """A fixed-width rendering of a validated table, for observations and text outputs."""
    header = ["", *table["columns"]]
    body = [
        [idx, *("" if c is None else str(c) for c in row)]
        for idx, row in zip(table["index"][:max_rows], table["rows"][:max_rows], strict=False)
    ]
    widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).rjust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *body]
    ]
    shown = len(body)
    if table["total_rows"] > shown or table["total_columns"] > len(table["columns"]):
        lines.append(f"[{table['total_rows']} rows x {table['total_columns']} columns]")
    return "\n".join(lines)
