"""HTML for notebook front ends: jinja2 templates with autoescape, the one HTML path.

Nothing from the sandbox, a model or a dataset is ever inserted as markup: every value is escaped
by the template engine unless a template marks it safe (only markup built here, by templates).
Tables are built from validated table JSON, never from a kernel's HTML. Templates live in
`agentforge_jupyter/templates/`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .sandbox.result import TABLE

_ENV = Environment(
    loader=PackageLoader("agentforge_jupyter", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


def render(template: str, **context: Any) -> str:
    """`template` (a file in agentforge_jupyter/templates/) rendered with escaped `context`."""
    return _ENV.get_template(template).render(**context)


def render_markup(template: str, **context: Any) -> Markup:
    """Like `render`, marked safe so that it can be nested in another template."""
    return Markup(render(template, **context))


def message_html(
    label: str = "",
    *,
    name: Any = None,
    code: Any = None,
    text: Any = None,
    items: Iterable[Any] = (),
) -> str:
    """A one-line notice: bold `label`, then a bold `name`, a `code` value, `text`, `items`."""
    return render(
        "message.html.j2", label=label, name=name, code=code, text=text, items=list(items)
    )


def html_table(header: Sequence[Any], rows: Iterable[Sequence[Any]], caption: str = "") -> str:
    return render(
        "table.html.j2",
        header=["" if h is None else h for h in header],
        rows=[["" if c is None else c for c in row] for row in rows],
        caption=caption,
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
