"""The state directory: documents, and sub-directories that are never symbolic links.

Layout::

    datasets.json  tools.json  brains.json      versioned JSON documents
    data/  sandbox_tools/                       read by the sandbox's uid (o+rX)
    runs/  training/  evals/                    private to this user (0700, files 0600)

The root itself may be a link the user configured; anything below it that is a link is
refused, since a cloned or shared state directory could point it anywhere.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from agentforge_jupyter.errors import StateError

from .document import Document
from .files import DIR_MODE, checked_dir, child_path, not_writable_error
from .locking import DEFAULT_LOCK_TIMEOUT_S
from .paths import STATE_DIR_ENV, state_dir

__all__ = ["DOCUMENT_VERSIONS", "SHARED_DIR_MODE", "StateDir"]

#: Newest version this code can read and write, per document name; unknown names get 1.
DOCUMENT_VERSIONS: dict[str, int] = {"datasets": 1, "tools": 1, "brains": 1}
#: Directories the sandbox's own uid must read (mounted read-only into it).
SHARED_DIR_MODE = 0o755
SUBDIR_MODES = {
    "data": SHARED_DIR_MODE,
    "sandbox_tools": SHARED_DIR_MODE,
    "runs": DIR_MODE,
    "training": DIR_MODE,
    "evals": DIR_MODE,
}
_DOC_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


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

    # -- the root

    def ensure_root(self) -> Path:
        """The root, created private (0700) if missing; a file there is a clear error."""
        try:
            st = os.stat(self.root)
        except FileNotFoundError:
            try:
                self.root.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
            except OSError as exc:
                raise not_writable_error(self.root, exc) from exc
            return self.root
        if not stat.S_ISDIR(st.st_mode):
            raise StateError(
                f"The state directory {self.root} is a file, not a directory. Point "
                f"{STATE_DIR_ENV} at a directory, or move the file away."
            )
        return self.root

    # -- documents

    def document(self, name: str, version: int | None = None) -> Document:
        """The document ``<root>/<name>.json`` (``datasets``, ``tools``, ``brains``, ...)."""
        if not _DOC_NAME_RE.match(name):
            raise StateError(
                f"Invalid state document name {name!r}: use lowercase letters, digits and '_'."
            )
        if self.root.exists() and not self.root.is_dir():
            self.ensure_root()  # raises the clear error
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
        self.ensure_root()
        return checked_dir(self.root / name, mode=SUBDIR_MODES.get(name, DIR_MODE))

    @property
    def data_dir(self) -> Path:
        return self._subdir("data")

    @property
    def runs_dir(self) -> Path:
        return self._subdir("runs")

    @property
    def training_dir(self) -> Path:
        return self._subdir("training")

    @property
    def evals_dir(self) -> Path:
        return self._subdir("evals")

    @property
    def sandbox_tools_dir(self) -> Path:
        """Where the ``agentforge_tools`` package for sandboxes is written."""
        return self._subdir("sandbox_tools")

    def run_dir(self, run_id: str) -> Path:
        """``runs/<run_id>/`` (created)."""
        return self._checked_child(self.runs_dir, run_id)

    def training_job_dir(self, job_id: str) -> Path:
        """``training/<job_id>/`` (created)."""
        return self._checked_child(self.training_dir, job_id)

    def data_file(self, name: str) -> Path:
        """``data/<name>`` for a stored file name: one plain component, never a link."""
        path = child_path(self.data_dir, name)
        if path.is_symlink():
            checked_dir(path)  # raises the clear error about links
        return path

    @staticmethod
    def _checked_child(parent: Path, child: str) -> Path:
        if not isinstance(child, str) or not _ID_RE.match(child) or ".." in child:
            raise StateError(f"Invalid id {child!r}: use letters, digits, '_', '-' and '.'.")
        return checked_dir(child_path(parent, child))

    def problems(self) -> list[str]:
        """What makes this directory unusable (for ``agentforge doctor``); [] when fine."""
        found: list[str] = []
        if not self.root.exists():
            return found  # created on first use
        try:
            self.ensure_root()
        except StateError as exc:
            return [str(exc)]
        if not os.access(self.root, os.W_OK | os.X_OK):
            found.append(f"The state directory {self.root} is not writable by this user.")
        for name in SUBDIR_MODES:
            path = self.root / name
            try:
                checked_dir(path, create=False)
            except StateError as exc:
                found.append(str(exc))
        return found
