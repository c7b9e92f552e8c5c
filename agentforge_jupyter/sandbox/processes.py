"""Finding and killing processes that code in the sandbox left behind (through psutil).

Code may fork (the exec filter stops new programs, not new processes). Nothing it starts may
outlive the execution that started it. As root each sandbox runs as its own uid, so its strays
are found by that uid, wherever they moved in the process tree; otherwise by the tree under the
process jupyter_client started. Where the process table cannot be read (no /proc), nothing is
found and the caller says so: this is reduced isolation, not a crash.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterable

import psutil

LAUNCHER_MARK = "agentforge_jupyter.sandbox.launcher"
_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied)


class ProcessTableUnavailable(RuntimeError):
    """The process table cannot be read here (no /proc, or psutil unsupported)."""


def _table_error(exc: BaseException) -> ProcessTableUnavailable:
    return ProcessTableUnavailable(f"the process table cannot be read: {exc}")


def tree(root: int) -> list[psutil.Process]:
    """`root` and everything under it."""
    try:
        process = psutil.Process(root)
        return [process, *process.children(recursive=True)]
    except _GONE:
        return []
    except (psutil.Error, OSError) as exc:
        raise _table_error(exc) from exc


def owned_by(uid: int) -> list[psutil.Process]:
    """Every live process whose real uid is `uid`."""
    found = []
    try:
        for process in psutil.process_iter(["uids"]):
            uids = process.info["uids"]
            if uids is not None and uids.real == uid and _alive(process):
                found.append(process)
    except (psutil.Error, OSError) as exc:
        raise _table_error(exc) from exc
    return found


def find_kernel(root: int) -> int | None:
    """The kernel's pid under `root`, looked up once right after start-up (before any user
    code could fork a look-alike)."""
    marked = []
    for process in tree(root):
        with contextlib.suppress(*_GONE):
            cmdline = process.cmdline()
            if LAUNCHER_MARK in " ".join(cmdline) and "bwrap" not in (cmdline or [""])[0]:
                marked.append(process.pid)
    return min(marked) if marked else None


def chain(root: int, kernel: int) -> set[int]:
    """The kernel and the processes leading to it (bubblewrap): never strays."""
    keep = {kernel, root}
    with contextlib.suppress(*_GONE):
        keep.update(p.pid for p in psutil.Process(kernel).parents())
    return keep


def strays(
    root: int, kernel: int, uid: int | None, keep: set[int] | None = None
) -> list[psutil.Process]:
    """Processes of the sandbox other than the kernel and the chain leading to it."""
    members = owned_by(uid) if uid is not None else tree(root)
    keep = keep if keep is not None else chain(root, kernel)
    return [p for p in members if p.pid not in keep]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except _GONE:
        return False


def kill_all(processes: Iterable[psutil.Process]) -> int:
    killed = 0
    for process in processes:
        with contextlib.suppress(*_GONE):
            process.kill()
            killed += 1
    return killed


def wait_gone(processes: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait for processes to end, SIGKILL what remains; the ones still there after that."""
    try:
        _, alive = psutil.wait_procs(processes, timeout=timeout)
        kill_all(alive)
        return [p for p in alive if _alive(p)]
    except (psutil.Error, OSError):
        return []


def end_all_of(uid: int, timeout: float) -> bool:
    """Kill every process of `uid` until none is left (or `timeout`); True when none is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            left = owned_by(uid)
        except ProcessTableUnavailable:
            return False
        if not left:
            return True
        kill_all(left)
        time.sleep(0.02)
    return False


def running(pid: int) -> bool:
    try:
        return _alive(psutil.Process(pid))
    except (psutil.Error, OSError):
        return False


def free_uid(low: int = 200_000, high: int = 299_999) -> int:
    """An unprivileged uid no running process uses, so sandboxes share no process limit.
    Without a process table any uid of the range is taken (nothing can be checked)."""
    used: set[int] = set()
    try:
        for process in psutil.process_iter(["uids"]):
            if process.info["uids"] is not None:
                used.add(process.info["uids"].real)
    except (psutil.Error, OSError):
        used = set()
    while True:
        uid = random.randint(low, high)
        if uid not in used:
            return uid
