"""A seccomp filter that denies execve/execveat, so code in the sandbox cannot start programs.

Written as a raw classic-BPF program loaded with prctl(2) through ctypes rather than through
libseccomp: the sandbox's minimal filesystem has no ld.so cache for ctypes.util.find_library,
and the program is nine instructions long. Loaded by the launcher before the kernel starts any
thread, so every thread and child inherits it.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

# Architectures we know the syscall numbers of: (AUDIT_ARCH value, execve, execveat).
_ARCHES: dict[str, tuple[int, int, int]] = {
    "x86_64": (0xC000003E, 59, 322),
    "aarch64": (0xC00000B7, 221, 281),
}
_X32_SYSCALL_BIT = 0x40000000

_BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_BPF_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_BPF_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_BPF_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class SeccompUnavailable(RuntimeError):
    """This machine's architecture or kernel does not allow the filter to be loaded."""


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def build_program(machine: str | None = None) -> bytes:
    """The filter as packed `struct sock_filter` instructions."""
    machine = machine or platform.machine()
    if machine not in _ARCHES:
        raise SeccompUnavailable(f"no execve syscall numbers known for architecture {machine!r}")
    audit_arch, execve, execveat = _ARCHES[machine]
    deny = _RET_ERRNO | errno.EPERM
    return b"".join(
        [
            _insn(_BPF_LD_W_ABS, 0, 0, 4),  # A = seccomp_data.arch
            # A foreign ABI (e.g. i386 through int 0x80) has other syscall numbers: deny it all.
            _insn(_BPF_JEQ_K, 1, 0, audit_arch),
            _insn(_BPF_RET_K, 0, 0, deny),
            _insn(_BPF_LD_W_ABS, 0, 0, 0),  # A = seccomp_data.nr
            _insn(_BPF_JGE_K, 2, 0, _X32_SYSCALL_BIT),  # x32 ABI on x86_64: deny
            _insn(_BPF_JEQ_K, 1, 0, execve),
            _insn(_BPF_JEQ_K, 0, 1, execveat),
            _insn(_BPF_RET_K, 0, 0, deny),
            _insn(_BPF_RET_K, 0, 0, _RET_ALLOW),
        ]
    )


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def deny_exec() -> None:
    """Load the filter into the calling thread (and, through inheritance, all it starts)."""
    program = build_program()
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SeccompUnavailable(f"prctl(NO_NEW_PRIVS) failed: errno {ctypes.get_errno()}")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise SeccompUnavailable(f"prctl(SECCOMP) failed: errno {ctypes.get_errno()}")
