"""Append-only JSON Lines logs (run events, training logs): one record per line."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentforge_jupyter.errors import StateError

from .files import DIR_MODE, FILE_MODE, open_nofollow, write_all

__all__ = ["JsonlRead", "append_jsonl", "read_jsonl"]

log = logging.getLogger(__name__)


def append_jsonl(path: str | os.PathLike[str], record: Any, *, fsync: bool = False) -> None:
    """Append one JSON record as one line with a single ``O_APPEND`` write.

    Each line is written whole by one ``write`` call, so concurrent appenders do not interleave
    on local filesystems. If a crash left a partial last line, a newline is written first so the
    new record starts on its own line (the partial one is then skipped by :func:`read_jsonl`).
    """
    line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if "\n" in line:  # pragma: no cover - json.dumps escapes newlines; defensive
        raise StateError("A JSONL record serialised to more than one line.")
    payload = (line + "\n").encode("utf-8")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    # Logs hold outputs: private to this user, and never written through a planted link.
    fd = open_nofollow(p, os.O_RDWR | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            payload = b"\n" + payload
        write_all(fd, payload)
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class JsonlRead:
    """What :func:`read_jsonl` found.

    ``next_offset`` is the byte offset to pass as ``start`` to continue (tailing): it stops
    before an unterminated last line, which may still be being written. ``truncated`` says such
    a line was skipped; ``bad_lines`` are 1-based line numbers (counted from ``start``) of
    complete lines that were not valid JSON and were skipped.
    """

    records: list[Any] = field(default_factory=list)
    next_offset: int = 0
    truncated: bool = False
    bad_lines: list[int] = field(default_factory=list)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)


def read_jsonl(path: str | os.PathLike[str], start: int = 0) -> JsonlRead:
    """Read records from byte offset ``start``; tolerant of a partial last line (never raises
    for bad content; a missing file reads as empty)."""
    result = JsonlRead(next_offset=start)
    try:
        data = _read_from(Path(path), start)
    except FileNotFoundError:
        return result
    end = data.rfind(b"\n") + 1  # complete lines only
    if end < len(data):
        result.truncated = True
    for number, raw in enumerate(data[:end].split(b"\n")[:-1], start=1):
        if not raw.strip():
            continue
        try:
            result.records.append(json.loads(raw))
        except (UnicodeDecodeError, json.JSONDecodeError):
            result.bad_lines.append(number)
    if result.bad_lines:
        log.warning("Skipped %d unreadable line(s) in %s", len(result.bad_lines), path)
    result.next_offset = start + end
    return result


def _read_from(path: Path, start: int) -> bytes:
    fd = open_nofollow(path, os.O_RDONLY)
    try:
        os.lseek(fd, start, os.SEEK_SET)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
