"""Small helpers shared by the sub-commands: JSON output, reading code, tables as text."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from ..datasets import MAX_NAME_LENGTH, DatasetError, DatasetRegistry, DuplicateDatasetError
from ..datasets.model import default_name
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


def dataset_name(spec: str) -> str:
    """A registered name as is; a path to a file is registered first, or reused when that file
    was registered before (an export's data file sent along with its notebook)."""
    reg = registry()
    if spec in reg:
        return spec
    path = Path(spec).expanduser()
    if path.is_file():
        for info in reg.list():
            if info.source == str(path.resolve()):
                return info.name
        return _add_under_a_free_name(reg, path)
    if path.exists():
        raise DatasetError(f"{path.absolute()} is not a regular file; give a data file or a name.")
    if "/" in spec or os.sep in spec or spec.startswith("~"):  # a path: names have no slash
        raise DatasetError(f"No file at {path.absolute()}. Check the path, or give a dataset name.")
    try:
        reg.get(spec)
    except DatasetError as exc:
        raise DatasetError(f"{exc} (And no file at {path.absolute()}.)") from None
    return spec


def _add_under_a_free_name(reg: DatasetRegistry, path: Path) -> str:
    # A received `sales_q3.jsonl` must not collide with this user's own `sales_q3`.
    base = default_name(path)
    for n in range(1, 100):
        candidate = base if n == 1 else f"{base[: MAX_NAME_LENGTH - 4]}_{n}"
        try:
            return reg.add(path, name=candidate).name
        except DuplicateDatasetError:
            continue
    raise DuplicateDatasetError(
        f"Datasets named {base}, {base}_2 ... {base}_99 all exist: register {path} with "
        "`agentforge datasets add PATH --name NAME` and pass that name."
    )
