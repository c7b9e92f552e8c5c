"""Where things live: the state directory (shared data) and the user's config directory
(this user's own verdicts: trust records, verified tools, personal key-variable names)."""

from __future__ import annotations

import os
from pathlib import Path

from agentforge_jupyter.errors import StateError

__all__ = ["CONFIG_DIR_ENV", "STATE_DIR_ENV", "config_dir", "state_dir"]

STATE_DIR_ENV = "AGENTFORGE_STATE_DIR"
CONFIG_DIR_ENV = "AGENTFORGE_CONFIG_DIR"
APP_NAME = "agentforge"


def state_dir() -> Path:
    """The state directory in use, absolute (not created here).

    ``AGENTFORGE_STATE_DIR`` when set; else ``./state`` when it already exists (a project
    that keeps its state beside its notebooks); else one directory per user (platformdirs'
    user data dir), so that every notebook folder does not grow a registry of its own.
    """
    configured = os.environ.get(STATE_DIR_ENV, "").strip()
    if configured:
        path = Path(configured).expanduser().absolute()
        if path.exists() and not path.is_dir():
            raise StateError(
                f"{STATE_DIR_ENV} is {path}, which is a file, not a directory. Point "
                f"{STATE_DIR_ENV} at a directory (it is created if missing), or unset it to use "
                "the per-user default."
            )
        return path
    local = Path("state").absolute()
    if local.is_dir():
        return local
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "state"


def config_dir() -> Path:
    """This user's own AgentForge config directory (``AGENTFORGE_CONFIG_DIR`` overrides).

    What is recorded here is never read from a state directory: it is how a shared state
    directory is told apart from what this user allowed (see docs/state.md).
    """
    configured = os.environ.get(CONFIG_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
