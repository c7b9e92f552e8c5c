"""Small helpers shared by the sub-commands: JSON output, reading code, tables as text."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..datasets import DatasetRegistry
from ..errors import AgentForgeError
from ..sanitize import one_line
from ..state import StateDir


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


def read_source(path: str) -> str:
    """A file's text, or standard input for `-`."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AgentForgeError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise AgentForgeError(f"{path} is not UTF-8 text") from exc


def registry() -> DatasetRegistry:
    """The dataset registry of the state directory; the sample is registered on first use."""
    return DatasetRegistry.opened(StateDir())


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
