"""The one place tools.json is validated on read (it may come from someone else's repository).

Names follow the same rule as on write (``NAME_RE``: a tool's name becomes a file name in the
sandbox package), numbers and enums are checked, the sha256 is recomputed from the source
(a stored one is never trusted), and unknown fields are ignored (kept in the file, since
writers edit the raw records). A record that fails is left out of use and reported with the
reason; a document whose shape is wrong as a whole is a :class:`CorruptStateError`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import CorruptStateError
from .model import NAME_RE, STATUSES, Example, Param, Tool

__all__ = ["MAX_SOURCE_CHARS", "LoadedTools", "load_items", "tool_from_record"]

MAX_SOURCE_CHARS = 200_000
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_PROVENANCE_SOURCES = ("user", "run")


class RecordError(ValueError):
    """One stored tool record is invalid (the message says which field and why)."""


@dataclass
class LoadedTools:
    """Validated tools per name (oldest version first), and what was left out."""

    versions: dict[str, list[Tool]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _str(data: dict[str, Any], key: str, default: str | None = "", limit: int = 20_000) -> Any:
    value = data.get(key, default)
    if value is None and default is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{key} must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise RecordError(f"{key} is longer than {limit} characters")
    return value


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 10**9:
        raise RecordError(f"{key} must be a whole number from 1, not {value!r}")
    return value


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list) or len(value) > 1000:
        raise RecordError(f"{key} must be a list (of at most 1000 entries)")
    return value


def _strings(data: dict[str, Any], key: str, pattern: re.Pattern[str] | None = None) -> tuple:
    values = _list(data, key)
    for value in values:
        if not isinstance(value, str) or len(value) > 200:
            raise RecordError(f"{key} must hold short strings")
        if pattern is not None and not pattern.match(value):
            raise RecordError(f"{key} has an invalid entry {value!r}")
    return tuple(values)


def _example(data: Any) -> Example:
    if not isinstance(data, dict):
        raise RecordError("examples must hold objects")
    line = data.get("line")
    if not isinstance(line, int) or isinstance(line, bool) or line < 0:
        raise RecordError("an example's line must be a whole number")
    return Example(source=_str(data, "source"), want=_str(data, "want"), line=line)


def _param(data: Any) -> Param:
    if not isinstance(data, dict):
        raise RecordError("params must hold objects")
    name = _str(data, "name", limit=200)
    if not name.isidentifier():
        raise RecordError(f"parameter name {name!r} is not an identifier")
    return Param(
        name=name,
        annotation=_str(data, "annotation", None, 500),
        default=_str(data, "default", None, 500),
        kind=_str(data, "kind", "positional_or_keyword", 40),
    )


def _provenance(data: dict[str, Any]) -> dict[str, Any]:
    value = data.get("provenance", {"source": "user"})
    if not isinstance(value, dict) or value.get("source") not in _PROVENANCE_SOURCES:
        raise RecordError("provenance must be {'source': 'user'} or {'source': 'run', ...}")
    return {k: str(v)[:200] for k, v in value.items() if isinstance(k, str)}


def tool_from_record(data: Any, *, key: str | None = None) -> Tool:
    """A :class:`Tool` from one stored version record, or :class:`RecordError`."""
    if not isinstance(data, dict):
        raise RecordError(f"a version record must be an object, not {type(data).__name__}")
    name = data.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise RecordError(
            f"invalid tool name {name!r} (lowercase letters, digits and '_', from a letter)"
        )
    if key is not None and name != key:
        raise RecordError(f"the record's name {name!r} differs from its entry {key!r}")
    source = _str(data, "source", limit=MAX_SOURCE_CHARS)
    status = data.get("status", "verified")
    if status not in STATUSES:
        raise RecordError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    verification = data.get("verification", {})
    return Tool(
        name=name,
        version=_int(data, "version"),
        source=source,
        signature=_str(data, "signature", limit=2000),
        docstring=_str(data, "docstring"),
        tags=_strings(data, "tags", _TAG_RE),
        examples=tuple(_example(e) for e in _list(data, "examples")),
        params=tuple(_param(p) for p in _list(data, "params")),
        returns=_str(data, "returns", None, 500),
        imports=_strings(data, "imports"),
        provenance=_provenance(data),
        created=_str(data, "created", limit=64),
        status=status,
        verification=verification if isinstance(verification, dict) else {},
        sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
    )


def load_items(items: dict[str, Any], where: str) -> LoadedTools:
    """Validate every tool entry of a tools.json ``items`` object."""
    loaded = LoadedTools()
    for key in sorted(items):
        item = items[key]
        if not isinstance(item, dict) or not isinstance(item.get("versions"), list):
            raise CorruptStateError(
                f"State file {where} has the wrong shape: entry {key!r} should be an object "
                "with a 'versions' list. It was left untouched. Fix it by hand, or run "
                "`agentforge state repair tools` to move it aside and start with an empty "
                "tools document."
            )
        tools: list[Tool] = []
        for number, record in enumerate(item["versions"], start=1):
            try:
                tools.append(tool_from_record(record, key=key))
            except RecordError as exc:
                loaded.problems.append(f"{where}: tool {key!r}, record {number}: {exc}; ignored")
        if tools and NAME_RE.match(key):
            loaded.versions[key] = sorted(tools, key=lambda t: t.version)
    return loaded
