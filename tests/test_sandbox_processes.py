"""Stray processes are found by the sandbox's uid, wherever they sit in the process tree."""

from __future__ import annotations

import os
import shutil
import subprocess

from agentforge_jupyter.sandbox import processes

from .conftest import require


def test_strays_are_found_by_uid_outside_any_tree() -> None:
    require(os.geteuid() == 0 and shutil.which("setpriv") is not None, "needs root and setpriv")
    uid = processes.free_uid()
    child = subprocess.Popen(
        ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "sleep", "60"]
    )
    try:
        # Neither the "root" nor the "kernel" given is an ancestor of the stray.
        found = []
        for _ in range(100):
            found = processes.strays(root=1, kernel=1, uid=uid)
            if found:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert [p.pid for p in found] == [child.pid]
        assert processes.kill_all(found) == 1
        assert child.wait(timeout=10) != 0
    finally:
        child.kill()
        child.wait()


def test_free_uid_is_in_range_and_unused() -> None:
    uid = processes.free_uid()
    assert 200_000 <= uid <= 299_999
    assert processes.owned_by(uid) == []
