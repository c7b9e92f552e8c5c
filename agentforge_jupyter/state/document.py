"""One versioned JSON document of the state directory.

Every document looks like ``{"schema": "agentforge.<name>", "version": 1, "items": {...}}``,
pretty-printed with sorted keys and a trailing newline, so it can be read and diffed by a
person. Readers never lock: a document is only ever replaced by ``os.replace`` of a fully
written and fsynced temporary file in the same directory, so a reader sees the old or the new
version, never a mix. Writers do read-modify-write under the locks of :mod:`.locking`.

A writer killed mid-write leaves at most a stray ``.<name>.json.*.tmp`` file; the next writer
deletes it while holding the lock (only a lock holder creates temporary files). A document
that cannot be parsed or validated raises :class:`CorruptStateError` and is never overwritten:
:meth:`Document.quarantine` (``StateDir.repair``) moves it aside first. The file is opened
without following a symbolic link (a cloned state directory could link it anywhere).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentforge_jupyter.errors import CorruptStateError, StateError

from .files import UnsafeStateError, atomic_write_bytes, fsync_dir, read_bytes_nofollow
from .locking import DEFAULT_LOCK_TIMEOUT_S, file_lock, held_by_thread, thread_lock

__all__ = ["SCHEMA_PREFIX", "Document"]

log = logging.getLogger(__name__)

SCHEMA_PREFIX = "agentforge."


def _timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


class Document:
    """One versioned JSON document in the state directory.

    ``read()`` is lock-free; ``update()`` is a locked read-modify-write. Nested ``update()`` of
    the same document in one thread is refused (it would deadlock on the file lock).
    """

    def __init__(
        self,
        path: Path,
        name: str,
        version: int = 1,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT_S,
    ) -> None:
        self.path = Path(path)
        self.name = name
        self.schema = SCHEMA_PREFIX + name
        self.version = version
        self.lock_timeout = lock_timeout

    def __repr__(self) -> str:
        return f"Document({str(self.path)!r}, schema={self.schema!r}, version={self.version})"

    @property
    def lock_path(self) -> Path:
        return self.path.parent / f".{self.path.name}.lock"

    def empty(self) -> dict[str, Any]:
        """A fresh document with no items."""
        return {"schema": self.schema, "version": self.version, "items": {}}

    # -- reading

    def read(self) -> dict[str, Any]:
        """The current document (a fresh empty one if the file does not exist yet)."""
        try:
            raw = read_bytes_nofollow(self.path)
        except FileNotFoundError:
            return self.empty()
        except UnsafeStateError:
            raise
        except OSError as exc:
            raise self._corrupt(f"cannot be read ({exc.strerror or exc})") from exc
        return self._parse(raw)

    def _parse(self, raw: bytes) -> dict[str, Any]:
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise self._corrupt(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except json.JSONDecodeError as exc:
            raise self._corrupt(
                f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            ) from exc
        self._validate(data, when_reading=True)
        return data

    def _validate(self, data: Any, *, when_reading: bool) -> None:
        problem = _document_problem(data, self.schema, self.version)
        if problem is None:
            return
        if when_reading:
            raise self._corrupt(problem)
        raise StateError(f"Refusing to write {self.path}: the new content {problem}.")

    def _corrupt(self, problem: str) -> CorruptStateError:
        return CorruptStateError(
            f"State file {self.path} {problem}. It was left untouched. Fix it by hand, or run "
            f"`agentforge state repair {self.name}` to move it aside "
            f"(to {self.path.stem}.corrupt-<timestamp>.json) and start with an empty {self.name} "
            "document."
        )

    # -- writing

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold this document's thread and file locks (exclusive against every writer)."""
        key = os.path.abspath(self.path)
        held = held_by_thread()
        if key in held:
            raise StateError(f"Nested update of {self.path} in one thread is not supported.")
        lock = thread_lock(self.path)
        if not lock.acquire(timeout=self.lock_timeout):
            raise StateError(
                f"Timed out after {self.lock_timeout:.0f} s waiting for another thread of this "
                f"process to finish updating {self.path}."
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with file_lock(self.lock_path, self.lock_timeout):
                held.add(key)
                try:
                    self._remove_stale_temp_files()
                    yield
                finally:
                    held.discard(key)
        finally:
            lock.release()

    @contextlib.contextmanager
    def update(self) -> Iterator[dict[str, Any]]:
        """Read-modify-write under the lock; written only if the block exits without error.

        >>> with store.document("datasets").update() as data:
        ...     data["items"]["sales"] = {...}
        """
        with self.locked():
            data = self.read()
            yield data
            self._write_locked(data)

    def write(self, data: dict[str, Any]) -> None:
        """Replace the whole document (validated first) under the lock."""
        with self.locked():
            self._write_locked(data)

    def _write_locked(self, data: dict[str, Any]) -> None:
        self._validate(data, when_reading=False)
        try:
            text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise StateError(
                f"Refusing to write {self.path}: not JSON-serialisable ({exc})."
            ) from exc
        atomic_write_bytes(self.path, text.encode("utf-8"))

    def _remove_stale_temp_files(self) -> None:
        # Only a lock holder writes temp files, so any found now belong to a dead writer.
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()

    # -- repair

    def quarantine(self) -> Path | None:
        """Move the current file aside to ``<stem>.corrupt-<timestamp>.json``; start fresh.

        Returns the path kept aside, or ``None`` when there was no file. Works whether or not
        the document is corrupt (the CLI uses it after a :class:`CorruptStateError`).
        """
        with self.locked():
            if not os.path.lexists(self.path):
                return None
            kept = self.path.with_name(f"{self.path.stem}.corrupt-{_timestamp()}.json")
            os.replace(self.path, kept)
            fsync_dir(self.path.parent)
            self._write_locked(self.empty())
            log.warning("Moved unusable %s aside to %s and started fresh", self.path, kept)
            return kept

    def copy_items(self) -> dict[str, Any]:
        """A deep copy of ``read()["items"]``."""
        return copy.deepcopy(self.read()["items"])


def _document_problem(data: Any, schema: str, version: int) -> str | None:
    """Why ``data`` is not a valid document of this schema/version, or None if it is."""
    if not isinstance(data, dict):
        return f"does not hold a JSON object (found {type(data).__name__})"
    found_schema = data.get("schema")
    if found_schema != schema:
        return f"has schema {found_schema!r}, expected {schema!r}"
    found_version = data.get("version")
    if not isinstance(found_version, int) or isinstance(found_version, bool) or found_version < 1:
        return f"has no valid version number (found {found_version!r})"
    if found_version > version:
        return (
            f"has version {found_version}, newer than this AgentForge supports ({version}); "
            "upgrade agentforge_jupyter to use it"
        )
    if not isinstance(data.get("items"), dict):
        return "has no 'items' object"
    return None
