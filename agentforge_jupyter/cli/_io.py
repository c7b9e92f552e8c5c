"""Small helpers shared by the sub-commands: JSON output, reading code, tables as text."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from ..datasets import DatasetRegistry
from ..errors import AgentForgeError
from ..sanitize import one_line
from ..state import StateDir

# JSON escapes C0 controls itself; these it would print raw (C1 controls such as the 8-bit
# CSI, DEL, line separators and bidi overrides), and a terminal may act on them.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def print_json(data: Any) -> None:
    text = json.dumps(data, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n")


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
