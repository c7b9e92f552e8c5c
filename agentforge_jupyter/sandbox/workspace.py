"""The host-side directories of one sandbox, and safe file exchange through them.

    $TMPDIR/agentforge-<uid>/   private base: 0700, owned by this user, not a symlink, or refused
      sbx-XXXX/               one sandbox (0700; as root a size-limited tmpfs: the disk cap)
        kernel.json           connection file, 0600, readable only by the sandbox user
        kernel.log            the kernel's output, host-only
        empty                 an empty file bound over /proc/cmdline and friends
        ipc/                  kernel sockets (sandbox-writable)
        links/                hard links to the kernel's sockets (host-only): the host uses these
        inbox/                host -> sandbox files (read-only inside; 0600, the sandbox user's)
        outbox/               sandbox -> host files (sandbox-writable, read with O_NOFOLLOW)
        workspace/            the code's working directory, unless one is configured

The sandbox can plant symlinks, hard links, FIFOs and deep trees in what it can write, so the
host never writes there, reads and connects only through host-only names and descriptors, and
removes the tree without recursion or following links.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import stat
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..errors import SandboxError

_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 2, 4, 2
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class TransferError(SandboxError):
    """A file or DataFrame could not cross the sandbox boundary."""


def private_base() -> Path:
    """`$TMPDIR/agentforge-<uid>`, made private, or refused when someone else could reach it."""
    base = Path(tempfile.gettempdir()) / f"agentforge-{os.geteuid()}"
    with contextlib.suppress(FileExistsError):
        os.mkdir(base, 0o700)
    info = os.lstat(base)
    problem = None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        problem = "it is not a plain directory (a symlink or a file)"
    elif info.st_uid != os.geteuid():
        problem = f"it belongs to uid {info.st_uid}, not to you"
    elif info.st_mode & 0o077:
        problem = f"its mode is {stat.S_IMODE(info.st_mode):04o}, not 0700"
    if problem:
        raise SandboxError(
            f"refusing the temporary directory {base}: {problem}. Someone else may have "
            "created it to watch or redirect the sandbox's files. Remove it, or point TMPDIR "
            "at a private directory."
        )
    return base


@dataclass
class SandboxDirs:
    private: Path
    workspace: Path
    owns_workspace: bool
    mounted: bool = False

    @property
    def connection_file(self) -> Path:
        return self.private / "kernel.json"

    @property
    def log(self) -> Path:
        return self.private / "kernel.log"

    @property
    def masked(self) -> Path:
        """An empty file bound over host information in /proc (readable: it holds nothing)."""
        return self.private / "empty"

    @property
    def ipc(self) -> Path:
        return self.private / "ipc"

    @property
    def links(self) -> Path:
        return self.private / "links"

    @property
    def inbox(self) -> Path:
        return self.private / "inbox"

    @property
    def outbox(self) -> Path:
        return self.private / "outbox"

    @classmethod
    def create(cls, workspace: str | Path | None, uid: int | None, disk_mb: int = 0) -> SandboxDirs:
        """`uid`: the sandbox user when running as root (it gets what it must write or read)."""
        private = Path(tempfile.mkdtemp(prefix="sbx-", dir=private_base()))
        own = not workspace
        dirs = cls(private, Path(workspace) if workspace else private / "workspace", own)
        if os.geteuid() == 0 and disk_mb > 0:
            _mount_tmpfs(private, disk_mb)
            dirs.mounted = True
        for path in (dirs.ipc, dirs.links, dirs.inbox, dirs.outbox):
            os.mkdir(path, 0o700)
        if own:
            os.mkdir(dirs.workspace, 0o700)
        if uid is not None:
            for path in (dirs.ipc, dirs.inbox, dirs.outbox, *([dirs.workspace] if own else [])):
                os.chown(path, uid, uid)
        for path, mode in ((dirs.log, 0o600), (dirs.masked, 0o444)):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode))
            os.chmod(path, mode)
        return dirs

    def new_name(self, suffix: str) -> str:
        return f"{uuid.uuid4().hex}{suffix}"

    def clear(self, directory: Path) -> None:
        """Empty a sandbox-writable directory (the kernel is stopped)."""
        remove_tree(directory, keep_top=True)

    def remove(self) -> None:
        if self.mounted:
            _umount(self.private)
            self.mounted = False
        remove_tree(self.private)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount_tmpfs(path: Path, size_mb: int) -> None:
    options = f"size={size_mb}m,mode=0700,nr_inodes=1m".encode()
    if _libc().mount(b"agentforge", str(path).encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV, options):
        err = ctypes.get_errno()
        raise SandboxError(f"could not mount the sandbox's size-limited tmpfs: {os.strerror(err)}")


def _umount(path: Path) -> None:
    # Detach: a process still holding a file there cannot keep the cleanup from finishing.
    _libc().umount2(str(path).encode(), _MNT_DETACH)


def remove_tree(path: Path, keep_top: bool = False) -> None:
    """Remove a tree the sandbox may have shaped: no recursion (5,000 nested directories are
    fine), no symlink followed, at most two descriptors open, modes the code set ignored.

    Each directory met is emptied of non-directories and its subdirectories are renamed up to
    the top, so the depth never grows; then it is removed. Never raises."""
    with contextlib.suppress(OSError):
        top = os.open(path, _DIR_FLAGS)
        try:
            _flatten_and_remove(top)
        finally:
            os.close(top)
        if not keep_top:
            os.rmdir(path)


def _flatten_and_remove(top: int) -> None:
    pending = _empty_directory(top, top)
    while pending:
        name = pending.pop()
        with contextlib.suppress(OSError):
            os.chmod(name, 0o700, dir_fd=top)  # code may have made it unreadable
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=top)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=top)
            continue
        try:
            pending += _empty_directory(fd, top)
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.rmdir(name, dir_fd=top)


def _empty_directory(fd: int, top: int) -> list[str]:
    """Unlink everything but directories in `fd`; move its directories to `top`; their names."""
    moved = []
    with os.scandir(fd) as entries:
        names = [(e.name, e.is_dir(follow_symlinks=False)) for e in entries]
    for name, is_dir in names:
        if not is_dir:
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=fd)
            continue
        new = f".rm-{uuid.uuid4().hex}"
        try:
            os.rename(name, new, src_dir_fd=fd, dst_dir_fd=top)
        except OSError:
            continue
        moved.append(new)
    return moved


def write_inbox_file(inbox: Path, name: str, data: bytes, uid: int | None) -> Path:
    """A new file in the inbox, readable by the sandbox user alone (0600, owned by it)."""
    dir_fd = os.open(inbox, _DIR_FLAGS)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        fd = os.open(name, flags, 0o600, dir_fd=dir_fd)
        try:
            if uid is not None:
                os.fchown(fd, uid, uid)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    except OSError as exc:
        raise TransferError(f"could not write {name!r} into the sandbox's inbox: {exc}") from exc
    finally:
        os.close(dir_fd)
    return inbox / name


def read_outbox_file(outbox: Path, name: str, max_bytes: int) -> bytes:
    """Read a file the sandbox wrote, refusing links, non-regular files and oversized files."""
    dir_fd = os.open(outbox, _DIR_FLAGS)
    try:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        except OSError as exc:
            raise TransferError(f"the sandbox did not produce {name!r} ({exc.strerror})") from exc
        try:
            data = _read_regular(fd, name, max_bytes)
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    return data


def _read_regular(fd: int, name: str, max_bytes: int) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise TransferError(f"{name!r} from the sandbox is not a regular file; refused")
    if info.st_size > max_bytes:
        raise TransferError(
            f"{name!r} from the sandbox is {info.st_size} bytes, over the "
            f"{max_bytes}-byte transfer limit (raise SandboxConfig.max_transfer_mb)"
        )
    chunks, total = [], 0
    while total <= max_bytes:
        chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        raise TransferError(f"{name!r} from the sandbox grew past the transfer limit; refused")
    return b"".join(chunks)
