"""The state directory: versioned JSON documents and append-only JSONL event logs.

Layout (``AGENTFORGE_STATE_DIR``, else ``./state``)::

    datasets.json  tools.json  brains.json      versioned JSON documents
    data/  runs/  training/                     created on demand

Every document looks like ``{"schema": "agentforge.<name>", "version": 1, "items": {...}}``,
pretty-printed with sorted keys and a trailing newline, so a state directory can be read and
diffed by a person.

Concurrency. Readers never lock: a document is only ever replaced by ``os.replace`` of a fully
written and fsynced temporary file in the same directory, so a reader sees the old or the new
version, never a mix. Writers do read-modify-write under two locks:

* a ``threading.Lock`` per document path, for threads of one process;
* ``fcntl.flock`` on a sibling ``.<name>.json.lock`` file, for processes. ``flock`` (rather than
  POSIX ``lockf``) is tied to the open file, so it cannot be dropped by some unrelated ``close()``
  elsewhere in the process. On Linux NFS clients ``flock`` is emulated with byte-range locks that
  the server arbitrates, so it also holds across machines sharing a network volume (such as a
  RunPod network volume); purely local FUSE filesystems may only lock within one machine.

A writer killed mid-write leaves at most a stray ``.<name>.json.*.tmp`` file; the next writer
deletes it while holding the lock (only a lock holder creates temporary files).

A document that cannot be parsed or validated raises :class:`CorruptStateError` and is never
overwritten: :meth:`Document.quarantine` (``StateDir.repair``) moves it aside first.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentforge_jupyter.errors import CorruptStateError, StateError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DOCUMENT_VERSIONS",
    "SCHEMA_PREFIX",
    "STATE_DIR_ENV",
    "Document",
    "JsonlRead",
    "StateDir",
    "append_jsonl",
    "read_jsonl",
    "state_dir",
]

log = logging.getLogger(__name__)

STATE_DIR_ENV = "AGENTFORGE_STATE_DIR"
SCHEMA_PREFIX = "agentforge."
#: Newest version this code can read and write, per document name; unknown names get 1.
DOCUMENT_VERSIONS: dict[str, int] = {"datasets": 1, "tools": 1, "brains": 1}
DEFAULT_LOCK_TIMEOUT_S = 60.0
_DOC_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def state_dir() -> Path:
    """The configured state directory as an absolute path (not created here)."""
    configured = os.environ.get(STATE_DIR_ENV, "").strip()
    path = Path(configured).expanduser() if configured else Path("state")
    return path.absolute()


# --------------------------------------------------------------------------- locking

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def _reset_thread_locks() -> None:
    # A child forked while another thread held a lock would otherwise inherit it held forever.
    global _thread_locks_guard
    _thread_locks.clear()
    _thread_locks_guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_thread_locks)


_held = threading.local()


def _held_by_thread() -> set[str]:
    """Document paths whose lock the current thread holds (to refuse nested updates)."""
    if not hasattr(_held, "paths"):
        _held.paths = set()
    return _held.paths


def _thread_lock(path: Path) -> threading.Lock:
    key = os.path.abspath(path)
    with _thread_locks_guard:
        lock = _thread_locks.get(key)
        if lock is None:
            lock = _thread_locks[key] = threading.Lock()
        return lock


@contextlib.contextmanager
def _file_lock(lock_path: Path, timeout: float) -> Iterator[None]:
    """Exclusive inter-process lock on ``lock_path`` (created if missing)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, lock_path, timeout)
        try:
            yield
        finally:
            _release(fd)
    finally:
        os.close(fd)


_BUSY_ERRNOS = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, getattr(errno, "EDEADLOCK", -1)}


def _acquire(fd: int, lock_path: Path, timeout: float) -> None:
    # Non-blocking attempts with backoff, so a stuck holder gives a clear error, not a hang.
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # pragma: no cover - Windows
                import msvcrt

                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return
        except OSError as exc:
            if exc.errno not in _BUSY_ERRNOS:
                raise StateError(
                    f"Cannot lock {lock_path}: {exc}. The filesystem may not support file locks "
                    "(on NFS, check that the lock service is running); choose another "
                    f"state directory with {STATE_DIR_ENV}."
                ) from exc
            if time.monotonic() >= deadline:
                raise StateError(
                    f"Timed out after {timeout:.0f} s waiting for the lock {lock_path}. "
                    "Another AgentForge process is holding it; if none is running, the lock "
                    "holder died on a filesystem that did not release it: delete the .lock file."
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


def _release(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:  # pragma: no cover - Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


# --------------------------------------------------------------------------- atomic files


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform, so best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data``: temp file in the same directory, fsync, ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        _fsync_dir(path.parent)


def _timestamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


# --------------------------------------------------------------------------- documents


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
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return self.empty()
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
        held = _held_by_thread()
        if key in held:
            raise StateError(f"Nested update of {self.path} in one thread is not supported.")
        thread_lock = _thread_lock(self.path)
        if not thread_lock.acquire(timeout=self.lock_timeout):
            raise StateError(
                f"Timed out after {self.lock_timeout:.0f} s waiting for another thread of this "
                f"process to finish updating {self.path}."
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with _file_lock(self.lock_path, self.lock_timeout):
                held.add(key)
                try:
                    self._remove_stale_temp_files()
                    yield
                finally:
                    held.discard(key)
        finally:
            thread_lock.release()

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
            if not self.path.exists():
                return None
            kept = self.path.with_name(f"{self.path.stem}.corrupt-{_timestamp()}.json")
            os.replace(self.path, kept)
            _fsync_dir(self.path.parent)
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


class StateDir:
    """The state directory. Paths are absolute; sub-directories are created on demand."""

    def __init__(
        self, root: str | os.PathLike[str] | None = None, *, lock_timeout: float | None = None
    ) -> None:
        self.root = Path(root).expanduser().absolute() if root is not None else state_dir()
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT_S if lock_timeout is None else lock_timeout

    def __repr__(self) -> str:
        return f"StateDir({str(self.root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StateDir) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    # -- documents

    def document(self, name: str, version: int | None = None) -> Document:
        """The document ``<root>/<name>.json`` (``datasets``, ``tools``, ``brains``, ...)."""
        if not _DOC_NAME_RE.match(name):
            raise StateError(
                f"Invalid state document name {name!r}: use lowercase letters, digits and '_'."
            )
        supported = version if version is not None else DOCUMENT_VERSIONS.get(name, 1)
        return Document(self.root / f"{name}.json", name, supported, lock_timeout=self.lock_timeout)

    def repair(self, name: str) -> Path | None:
        """Move document ``name`` aside (see :meth:`Document.quarantine`); returns where to."""
        return self.document(name).quarantine()

    @property
    def datasets_json(self) -> Path:
        return self.root / "datasets.json"

    @property
    def tools_json(self) -> Path:
        return self.root / "tools.json"

    @property
    def brains_json(self) -> Path:
        return self.root / "brains.json"

    # -- directories

    def _subdir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def data_dir(self) -> Path:
        return self._subdir("data")

    @property
    def runs_dir(self) -> Path:
        return self._subdir("runs")

    @property
    def training_dir(self) -> Path:
        return self._subdir("training")

    def run_dir(self, run_id: str) -> Path:
        """``runs/<run_id>/`` (created)."""
        return self._checked_child(self.runs_dir, run_id)

    def training_job_dir(self, job_id: str) -> Path:
        """``training/<job_id>/`` (created)."""
        return self._checked_child(self.training_dir, job_id)

    @staticmethod
    def _checked_child(parent: Path, child: str) -> Path:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", child) or ".." in child:
            raise StateError(f"Invalid id {child!r}: use letters, digits, '_', '-' and '.'.")
        path = parent / child
        path.mkdir(parents=True, exist_ok=True)
        return path


# --------------------------------------------------------------------------- JSONL logs


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
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            payload = b"\n" + payload
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
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
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read()
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
