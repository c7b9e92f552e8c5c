"""Locks for writers: a ``threading.Lock`` per path for threads of one process, and
``filelock`` (``flock`` on POSIX) on a sibling lock file for processes.

``flock`` is tied to the open file, so it cannot be dropped by some unrelated ``close()``
elsewhere in the process; Linux NFS clients emulate it with byte-range locks the server
arbitrates, so it holds across machines sharing a network volume (such as a RunPod volume).
Every acquisition has a timeout, so a stuck holder gives a clear error, not a hang.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from agentforge_jupyter.errors import StateError

from .files import FILE_MODE, UnsafeStateError
from .paths import STATE_DIR_ENV

__all__ = ["DEFAULT_LOCK_TIMEOUT_S", "file_lock", "held_by_thread", "thread_lock"]

DEFAULT_LOCK_TIMEOUT_S = 60.0

_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()
_held = threading.local()


def _reset_thread_locks() -> None:
    # A child forked while another thread held a lock would otherwise inherit it held forever.
    global _thread_locks_guard
    _thread_locks.clear()
    _thread_locks_guard = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_thread_locks)


def held_by_thread() -> set[str]:
    """Paths whose lock the current thread holds (to refuse nested updates)."""
    if not hasattr(_held, "paths"):
        _held.paths = set()
    return _held.paths


def thread_lock(path: Path) -> threading.Lock:
    key = os.path.abspath(path)
    with _thread_locks_guard:
        lock = _thread_locks.get(key)
        if lock is None:
            lock = _thread_locks[key] = threading.Lock()
        return lock


@contextlib.contextmanager
def file_lock(lock_path: Path, timeout: float, *, mode: int = FILE_MODE) -> Iterator[None]:
    """Exclusive inter-process lock on ``lock_path`` (created if missing; never a link)."""
    import filelock

    lock = filelock.FileLock(str(lock_path), timeout=timeout, mode=mode, thread_local=False)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise StateError(
            f"Timed out after {timeout:.0f} s waiting for the lock {lock_path}. Another "
            "AgentForge process is holding it; if none is running, the lock holder died on a "
            "filesystem that did not release it: delete the .lock file."
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeStateError(
                f"{lock_path} is a symbolic link; AgentForge does not follow links inside a "
                "state directory. Delete it (it is only a lock file)."
            ) from exc
        raise StateError(
            f"Cannot lock {lock_path}: {exc}. The filesystem may not support file locks (on "
            f"NFS, check that the lock service is running); choose another state directory "
            f"with {STATE_DIR_ENV}."
        ) from exc
    try:
        yield
    finally:
        lock.release()
