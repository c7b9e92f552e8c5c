"""Small helpers shared by the sub-commands: JSON output, reading code, tables as text."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from ..datasets import DatasetRegistry
from ..errors import AgentForgeError
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
