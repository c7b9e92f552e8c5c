"""Running the real `agentforge` command in a subprocess, as a user would (shared by the CLI
tests; a support module, not a test module)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

COMMAND = [sys.executable, "-m", "agentforge_jupyter.cli"]


def agentforge(
    *args: str,
    state: Path | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """`agentforge ARGS...` on the state directory `state` (default: the test's own, from the
    environment), with its output captured as text."""
    env = dict(os.environ)
    if state is not None:
        env["AGENTFORGE_STATE_DIR"] = str(state)
    return subprocess.run(
        [*COMMAND, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )
