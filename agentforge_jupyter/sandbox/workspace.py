"""The host-side directories of one sandbox, and safe file exchange through them.

    <private>/            root of the sandbox's host files (never writable by the sandbox)
      kernel.json         connection file, readable only by the sandbox user
      kernel.log          the kernel's stderr, host-only
      ipc/                kernel sockets (sandbox-writable)
      inbox/              host -> sandbox files (read-only inside)
      outbox/             sandbox -> host files (sandbox-writable, read with O_NOFOLLOW)
      workspace/          the code's working directory, unless one is configured

The sandbox can plant symlinks in what it can write, so the host never writes there and reads
outbox files through a directory descriptor without following links.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..errors import SandboxError


class TransferError(SandboxError):
    """A file or DataFrame could not cross the sandbox boundary."""


@dataclass
class SandboxDirs:
    private: Path
    workspace: Path
    owns_workspace: bool

    @property
    def connection_file(self) -> Path:
        return self.private / "kernel.json"

    @property
    def log(self) -> Path:
        return self.private / "kernel.log"

    @property
    def ipc(self) -> Path:
        return self.private / "ipc"

    @property
    def inbox(self) -> Path:
        return self.private / "inbox"

    @property
    def outbox(self) -> Path:
        return self.private / "outbox"

    @classmethod
    def create(cls, workspace: str | Path | None, uid: int | None) -> SandboxDirs:
        base = Path(tempfile.gettempdir()) / f"agentforge-{os.geteuid()}"
        base.mkdir(mode=0o700, exist_ok=True)
        private = Path(tempfile.mkdtemp(prefix="sbx-", dir=base))
        private.chmod(0o755)
        dirs = cls(private, Path(workspace) if workspace else private / "workspace", not workspace)
        for path in (dirs.ipc, dirs.inbox, dirs.outbox, dirs.workspace):
            path.mkdir(parents=True, exist_ok=True)
        for path in (dirs.ipc, dirs.outbox):
            path.chmod(0o700)
        if uid is not None:
            for path in (dirs.ipc, dirs.outbox, *([dirs.workspace] if dirs.owns_workspace else [])):
                os.chown(path, uid, uid)
        return dirs

    def new_name(self, suffix: str) -> str:
        return f"{uuid.uuid4().hex}{suffix}"

    def remove(self) -> None:
        shutil.rmtree(self.private, ignore_errors=True)


def read_outbox_file(outbox: Path, name: str, max_bytes: int) -> bytes:
    """Read a file the sandbox wrote, refusing links, non-regular files and oversized files."""
    dir_fd = os.open(outbox, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        except OSError as exc:
            raise TransferError(f"the sandbox did not produce {name!r} ({exc.strerror})") from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise TransferError(f"{name!r} from the sandbox is not a regular file; refused")
            if info.st_size > max_bytes:
                raise TransferError(
                    f"{name!r} from the sandbox is {info.st_size} bytes, over the "
                    f"{max_bytes}-byte transfer limit (raise SandboxConfig.max_transfer_mb)"
                )
            with os.fdopen(os.dup(fd), "rb") as handle:
                data = handle.read(max_bytes + 1)
        finally:
            os.close(fd)
        _unlink_quietly(name, dir_fd)
    finally:
        os.close(dir_fd)
    if len(data) > max_bytes:
        raise TransferError(f"{name!r} from the sandbox grew past the transfer limit; refused")
    return data


def _unlink_quietly(name: str, dir_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=dir_fd)
