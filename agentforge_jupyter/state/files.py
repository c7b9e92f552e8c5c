"""Files in a directory someone else may have written: no symlinks followed, private modes.

A state directory can come from a cloned repository or a shared volume, so a name in it can be
a symbolic link to anywhere. Files are opened relative to their directory's descriptor with
``O_NOFOLLOW``; sub-directories that are links are refused; what AgentForge creates is
private to this user (directories 0700, files 0600) unless a caller says otherwise (the
sandbox's read-only mounts must be readable by its own uid).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from pathlib import Path

from agentforge_jupyter.errors import StateError

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "UnsafeStateError",
    "atomic_write_bytes",
    "checked_dir",
    "child_path",
    "fsync_dir",
    "new_file_mode",
    "not_writable_error",
    "open_nofollow",
    "read_bytes_nofollow",
]

DIR_MODE = 0o700
FILE_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DIR_FD = os.open in os.supports_dir_fd


class UnsafeStateError(StateError):
    """A state path is a symbolic link, or a stored name leads outside its directory."""


def _link_error(path: Path) -> UnsafeStateError:
    return UnsafeStateError(
        f"{path} is a symbolic link. AgentForge does not follow links inside a state directory "
        "(a cloned or shared state directory could point them anywhere). Replace it with a "
        f"real file or directory (for a directory: `rm {path} && mkdir {path}`)."
    )


def open_nofollow(path: Path, flags: int, mode: int = FILE_MODE) -> int:
    """``os.open`` of ``path`` whose last component must not be a symbolic link."""
    path = Path(path)
    flags |= _NOFOLLOW | _CLOEXEC
    try:
        if not _DIR_FD:  # pragma: no cover - Windows
            return os.open(path, flags, mode)
        dir_fd = os.open(path.parent, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
        try:
            return os.open(path.name, flags, mode, dir_fd=dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.ENOTDIR and path.is_symlink()):
            raise _link_error(path) from exc
        raise


def read_bytes_nofollow(path: Path) -> bytes:
    """The content of a regular file ``path`` (a link or a non-regular file is refused)."""
    fd = open_nofollow(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def checked_dir(path: Path, *, mode: int = DIR_MODE, create: bool = True) -> Path:
    """``path`` as a real directory (created with ``mode`` if missing); a link is refused."""
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not create:
            return path
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
            with contextlib.suppress(FileExistsError):
                os.mkdir(path, mode)
                os.chmod(path, mode)  # whatever the umask
        except OSError as exc:
            raise not_writable_error(path, exc) from exc
        st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise _link_error(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeStateError(f"{path} should be a directory but is not; move it away.")
    return path


def not_writable_error(path: Path, exc: OSError) -> StateError:
    """What to say when AgentForge cannot write ``path`` in a state directory (a read-only
    mount, a full disk, permissions)."""
    return StateError(
        f"Cannot write {path}: {exc.strerror or exc}. AgentForge writes dataset copies and run "
        "logs in its state directory: make it writable (or free space), or point "
        "AGENTFORGE_STATE_DIR at a directory you can write."
    )


def child_path(parent: Path, name: str) -> Path:
    """``parent / name`` for a stored ``name``, refused unless it is one plain component that
    stays inside ``parent`` (no separators, no ``..``, not absolute)."""
    if (
        not isinstance(name, str)
        or not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or os.path.isabs(name)
    ):
        raise UnsafeStateError(
            f"Refusing the stored name {name!r}: it is not a plain file name inside {parent}."
        )
    path = Path(parent) / name
    if os.path.dirname(os.path.normpath(path)) != os.path.normpath(parent):
        raise UnsafeStateError(f"Refusing the stored name {name!r}: it leaves {parent}.")
    return path


def fsync_dir(directory: Path) -> None:
    # Makes a rename itself durable; not possible on every platform, so best effort.
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


def new_file_mode() -> int:
    """The mode an ordinary new file gets (0666 less the umask), for files written for the user
    outside the state directory (exports, executed notebooks). The umask is read, not set:
    os.umask() would change it for every thread for a moment."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd` (os.write may write less than it was given)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def atomic_write_bytes(
    path: Path, data: bytes, *, durable: bool = True, mode: int = FILE_MODE
) -> None:
    """Replace ``path`` with ``data``: a new temp file in the same directory (never a link),
    fsync, ``os.replace`` (which replaces a link rather than writing through it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)  # a stale temp file (or a planted link) of a dead writer with our pid
    fd = open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            os.fchmod(fd, mode)
            write_all(fd, data)
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
        fsync_dir(path.parent)
