"""The one text-table renderer (CLI listings, tool tables): padded columns, numbers
right-aligned, one line per cell with no control characters, since cells may hold data or model
text. Below every layer that prints tables, so services and front ends share it."""

from __future__ import annotations

from typing import Any

from .sanitize import one_line

__all__ = ["text_table"]


def text_table(header: list[str], rows: list[list[Any]], *, max_width: int | None = None) -> str:
    """The one text-table renderer of the CLI: columns padded, numbers right-aligned, each cell
    on one line with no control characters (cells may hold data or model text), cells longer
    than `max_width` cut with an ellipsis."""
    cells = [[one_line(c, max_width) for c in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    numeric = [bool(rows) and all(_is_number(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            c.rjust(w) if right else c.ljust(w)
            for c, w, right in zip(r, widths, numeric, strict=True)
        ).rstrip()
        for r in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
