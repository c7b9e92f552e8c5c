"""Finding and killing processes that code in the sandbox left behind.

Code may fork (the exec filter stops new programs, not new processes). Nothing it starts may
outlive the execution that started it, so after each execution every process under the
sandbox other than bubblewrap and the kernel itself is killed.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

LAUNCHER_MARK = "agentforge_jupyter.sandbox.launcher"


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    cmdline: str
    state: str = "R"

    @property
    def zombie(self) -> bool:
        """Exited, waiting to be reaped: it runs nothing and cannot be killed."""
        return self.state in ("Z", "X")


def _read_proc(pid_dir: Path) -> Proc | None:
    try:
        stat = (pid_dir / "stat").read_text()
        cmdline = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    # The command name in field 2 may contain spaces and parentheses: split after the last ")".
    fields = stat.rsplit(")", 1)[1].split()
    return Proc(int(pid_dir.name), int(fields[1]), cmdline, fields[0])


def process_table() -> dict[int, Proc]:
    procs = (_read_proc(p) for p in Path("/proc").iterdir() if p.name.isdigit())
    return {p.pid: p for p in procs if p is not None}


def descendants(root: int, table: dict[int, Proc] | None = None) -> list[Proc]:
    table = table if table is not None else process_table()
    children: dict[int, list[Proc]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc)
    found: list[Proc] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child.pid)
    return found


def find_kernel(root: int) -> int | None:
    """The kernel's pid under `root`, looked up once right after start-up (before any user
    code could fork a look-alike)."""
    marked = [
        p
        for p in descendants(root)
        if LAUNCHER_MARK in p.cmdline and "bwrap" not in p.cmdline.split(" ", 1)[0]
    ]
    return min(marked, key=lambda p: p.pid).pid if marked else None


def strays(root: int, kernel: int) -> list[Proc]:
    """Processes under `root` other than the kernel and the chain leading to it."""
    table = process_table()
    keep = {kernel}
    pid = kernel
    while pid in table and pid != root:
        pid = table[pid].ppid
        keep.add(pid)
    return [p for p in descendants(root, table) if p.pid not in keep and not p.zombie]


def kill_all(procs: list[Proc]) -> int:
    killed = 0
    for proc in procs:
        try:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        except (ProcessLookupError, PermissionError):
            pass
    return killed
