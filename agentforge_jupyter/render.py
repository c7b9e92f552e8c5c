"""HTML for notebook front ends, built only from escaped text.

Nothing from the sandbox or from a model is ever inserted as markup: every value goes through
html.escape, and tables are built from validated table JSON, never from a kernel's HTML.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from .sandbox.result import TABLE


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def html_table(header: Sequence[Any], rows: Iterable[Sequence[Any]], caption: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<table class="agentforge-table">{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def table_display_html(table: dict[str, Any]) -> str:
    """A validated TABLE display (see sandbox.outputs.checked_table) as an HTML table."""
    rows = [[idx, *row] for idx, row in zip(table["index"], table["rows"], strict=False)]
    shown, total = len(table["rows"]), table["total_rows"]
    cols, total_cols = len(table["columns"]), table["total_columns"]
    caption = (
        ""
        if (shown, cols) == (total, total_cols)
        else (f"showing {shown} of {total} rows, {cols} of {total_cols} columns")
    )
    return html_table(["", *table["columns"]], rows, caption)


def is_table(mime: str) -> bool:
    return mime == TABLE
