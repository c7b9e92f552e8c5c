"""Read access for the sandbox's uid alone, through a POSIX ACL entry, for the life of a sandbox.

As root the kernel runs as its own unprivileged uid, so a 0600 dataset file is unreadable to
it. Rather than opening the file to everyone, a `user:<uid>:r--` entry is added to the file's
access ACL (the `system.posix_acl_access` attribute, written directly: no `setfacl` needed) and
removed again at shutdown, when the file's original mode is put back. A file that already has
an ACL, or a file system without ACLs, is left alone; the caller then falls back to the mode.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

_XATTR = "system.posix_acl_access"
_VERSION = 2
_USER_OBJ, _USER, _GROUP_OBJ, _MASK, _OTHER = 0x01, 0x02, 0x04, 0x10, 0x20
_UNDEFINED = 0xFFFFFFFF
_READ = 4


@dataclass(frozen=True)
class Grant:
    path: Path
    mode: int


def _entry(tag: int, perm: int, ident: int = _UNDEFINED) -> bytes:
    return struct.pack("<HHI", tag, perm, ident)


def _acl_for(mode: int, uid: int) -> bytes:
    owner, group, other = (mode >> 6) & 7, (mode >> 3) & 7, mode & 7
    return struct.pack("<I", _VERSION) + b"".join(
        [
            _entry(_USER_OBJ, owner),
            _entry(_USER, _READ, uid),
            _entry(_GROUP_OBJ, group),
            _entry(_MASK, group | _READ),
            _entry(_OTHER, other),
        ]
    )


def grant_read(path: Path, uid: int) -> Grant | None:
    """Let `uid` read `path`; None when that could not be done this way."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or _has_acl(path):
            return None
        os.setxattr(path, _XATTR, _acl_for(stat.S_IMODE(info.st_mode), uid))
    except OSError:
        return None
    return Grant(path, stat.S_IMODE(info.st_mode))


def _has_acl(path: Path) -> bool:
    try:
        os.getxattr(path, _XATTR)
    except OSError as exc:
        if exc.errno in (errno.ENODATA, errno.ENOTSUP):
            return False
        raise
    return True


def revoke(grant: Grant) -> None:
    """Remove the entry and put the mode back (the ACL mask had become the group bits)."""
    with contextlib.suppress(OSError):
        os.removexattr(grant.path, _XATTR)
    with contextlib.suppress(OSError):
        os.chmod(grant.path, grant.mode)
