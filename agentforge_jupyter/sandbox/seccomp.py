"""The sandbox's seccomp filter: no new programs, no new namespaces, no kernel attack surface.

Anchored on Docker's default profile, as a deny-list over an otherwise normal Python process:
`execve`/`execveat` (optional), `unshare`, `setns`, `clone` with namespace flags, the mount
family, `io_uring_*`, the key-ring calls, `bpf`, `userfaultfd`, `perf_event_open`, `ptrace` and
`process_vm_*`, module loading, `kexec_*` and a few more that only an administrator needs all
fail with EPERM; `socket` works only for AF_UNIX, AF_INET and AF_INET6 (and NETLINK_ROUTE,
which ZeroMQ needs); `clone3` fails with
ENOSYS (its flags live in memory the filter cannot read, so glibc falls back to `clone`, which
is checked). Foreign ABIs (i386 through `int 0x80`, x32) are denied outright.

Written as a raw classic-BPF program loaded with prctl(2) through ctypes rather than through
libseccomp: the sandbox's minimal filesystem has no ld.so cache for ctypes.util.find_library.
Loaded by the launcher before the kernel starts any thread, so every thread and child inherits it.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class Arch:
    audit_arch: int
    numbers: dict[str, int]


# (name, x86_64, aarch64) from the kernel's uapi headers (x86_64: asm/unistd_64.h; aarch64 uses
# the generic table, asm-generic/unistd.h). None: the call does not exist there.
_SYSCALLS: tuple[tuple[str, int, int | None], ...] = (
    ("socket", 41, 198),
    ("clone", 56, 220),
    ("clone3", 435, 435),
    ("execve", 59, 221),
    ("execveat", 322, 281),
    ("unshare", 272, 97),
    ("setns", 308, 268),
    ("mount", 165, 40),
    ("umount2", 166, 39),
    ("pivot_root", 155, 41),
    ("open_tree", 428, 428),
    ("move_mount", 429, 429),
    ("fsopen", 430, 430),
    ("fsconfig", 431, 431),
    ("fsmount", 432, 432),
    ("fspick", 433, 433),
    ("mount_setattr", 442, 442),
    ("io_uring_setup", 425, 425),
    ("io_uring_enter", 426, 426),
    ("io_uring_register", 427, 427),
    ("keyctl", 250, 219),
    ("add_key", 248, 217),
    ("request_key", 249, 218),
    ("bpf", 321, 280),
    ("userfaultfd", 323, 282),
    ("perf_event_open", 298, 241),
    ("ptrace", 101, 117),
    ("process_vm_readv", 310, 270),
    ("process_vm_writev", 311, 271),
    ("init_module", 175, 105),
    ("finit_module", 313, 273),
    ("delete_module", 176, 106),
    ("kexec_load", 246, 104),
    ("kexec_file_load", 320, 294),
    ("acct", 163, 89),
    ("swapon", 167, 224),
    ("swapoff", 168, 225),
    ("reboot", 169, 142),
    ("sethostname", 170, 161),
    ("setdomainname", 171, 162),
    ("name_to_handle_at", 303, 264),
    ("open_by_handle_at", 304, 265),
    ("syslog", 103, 116),
    ("vhangup", 153, 58),
    ("kcmp", 312, 272),
    ("pidfd_getfd", 438, 438),
    ("process_madvise", 440, 440),
    ("quotactl", 179, 60),
    ("lookup_dcookie", 212, 18),
    ("fanotify_init", 300, 262),
    ("iopl", 172, None),
    ("ioperm", 173, None),
    ("uselib", 134, None),
)
_SPECIAL = ("socket", "clone", "clone3", "execve", "execveat")
DENIED = tuple(name for name, _, _ in _SYSCALLS if name not in _SPECIAL)
_X86_64 = {name: x86 for name, x86, _ in _SYSCALLS}
_AARCH64 = {name: arm for name, _, arm in _SYSCALLS if arm is not None}
ARCHES: dict[str, Arch] = {
    "x86_64": Arch(0xC000003E, _X86_64),
    "amd64": Arch(0xC000003E, _X86_64),
    "aarch64": Arch(0xC00000B7, _AARCH64),
    "arm64": Arch(0xC00000B7, _AARCH64),
}
ALLOWED_FAMILIES = (1, 2, 10)  # AF_UNIX, AF_INET, AF_INET6
AF_NETLINK, NETLINK_ROUTE = 16, 0
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET: Docker's mask.
NAMESPACE_FLAGS = 0x7E020000
_X32_SYSCALL_BIT = 0x40000000

_BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_BPF_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_BPF_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_BPF_JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_BPF_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
# struct seccomp_data: nr, arch, then the low words of args[0] and args[2] (little endian).
_OFF_NR, _OFF_ARCH, _OFF_ARG0, _OFF_ARG2 = 0, 4, 16, 32
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2


class SeccompUnavailable(RuntimeError):
    """This machine's architecture or kernel does not allow the filter to be loaded."""


def arch_for(machine: str | None = None) -> Arch:
    machine = machine or platform.machine()
    if machine not in ARCHES:
        raise SeccompUnavailable(
            f"no syscall table known for architecture {machine!r} (known: x86_64, aarch64): "
            "the sandbox runs without its seccomp filter"
        )
    return ARCHES[machine]


def _jump_to(label: str, here: int, labels: dict[str, int]) -> int:
    offset = labels[label] - here - 1
    if not 0 <= offset <= 255:
        raise AssertionError(f"BPF jump to {label} out of range ({offset})")
    return offset


# (opcode, true-target, false-target, k); a target is a label or 0 (next insn).
_Insn = tuple[int, str | int, str | int, int]


def build_program(machine: str | None = None, deny_exec: bool = True) -> bytes:
    """The filter as packed `struct sock_filter` instructions."""
    arch = arch_for(machine)
    denied = [arch.numbers[n] for n in DENIED if n in arch.numbers]
    if deny_exec:
        denied += [arch.numbers["execve"], arch.numbers["execveat"]]
    body: list[_Insn] = [
        (_BPF_LD_W_ABS, 0, 0, _OFF_ARCH),
        (_BPF_JEQ_K, 0, "deny", arch.audit_arch),
        (_BPF_LD_W_ABS, 0, 0, _OFF_NR),
        (_BPF_JGE_K, "deny", 0, _X32_SYSCALL_BIT),
        *((_BPF_JEQ_K, "deny", 0, nr) for nr in denied),
        (_BPF_JEQ_K, "enosys", 0, arch.numbers["clone3"]),
        (_BPF_JEQ_K, "socket", 0, arch.numbers["socket"]),
        (_BPF_JEQ_K, "clone", "allow", arch.numbers["clone"]),
    ]
    socket: list[_Insn] = [(_BPF_LD_W_ABS, 0, 0, _OFF_ARG0)]
    socket += [(_BPF_JEQ_K, "allow", 0, family) for family in ALLOWED_FAMILIES]
    # ZeroMQ resolves interfaces through NETLINK_ROUTE (getifaddrs) and aborts without it; in
    # the sandbox's own network namespace it only shows the sandbox's loopback.
    socket += [(_BPF_JEQ_K, 0, "deny", AF_NETLINK), (_BPF_LD_W_ABS, 0, 0, _OFF_ARG2)]
    socket += [(_BPF_JEQ_K, "allow", "deny", NETLINK_ROUTE)]
    clone: list[_Insn] = [
        (_BPF_LD_W_ABS, 0, 0, _OFF_ARG0),
        (_BPF_JSET_K, "deny", "allow", NAMESPACE_FLAGS),
    ]
    labels = {"socket": len(body)}
    labels["clone"] = labels["socket"] + len(socket)
    labels["allow"] = labels["clone"] + len(clone)
    labels["deny"], labels["enosys"] = labels["allow"] + 1, labels["allow"] + 2
    out = []
    for index, (code, jt, jf, k) in enumerate([*body, *socket, *clone]):
        t = _jump_to(jt, index, labels) if isinstance(jt, str) else jt
        f = _jump_to(jf, index, labels) if isinstance(jf, str) else jf
        out.append(struct.pack("HBBI", code, t, f, k))
    out.append(struct.pack("HBBI", _BPF_RET_K, 0, 0, _RET_ALLOW))
    out.append(struct.pack("HBBI", _BPF_RET_K, 0, 0, _RET_ERRNO | errno.EPERM))
    out.append(struct.pack("HBBI", _BPF_RET_K, 0, 0, _RET_ERRNO | errno.ENOSYS))
    return b"".join(out)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_filter(deny_exec: bool = True) -> None:
    """Load the filter into the calling thread (and, through inheritance, all it starts)."""
    program = build_program(deny_exec=deny_exec)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError as exc:
        raise SeccompUnavailable(f"cannot reach libc to load the filter: {exc}") from exc
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SeccompUnavailable(f"prctl(NO_NEW_PRIVS) failed: errno {ctypes.get_errno()}")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise SeccompUnavailable(f"prctl(SECCOMP) failed: errno {ctypes.get_errno()}")


def deny_exec() -> None:
    """The full filter, execve included (kept for callers of the old name)."""
    load_filter(deny_exec=True)
