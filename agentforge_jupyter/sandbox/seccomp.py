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

_COMMON_DENIED = (
    "unshare setns mount umount2 pivot_root open_tree move_mount fsopen fsconfig fsmount fspick "
    "mount_setattr io_uring_setup io_uring_enter io_uring_register keyctl add_key request_key "
    "bpf userfaultfd perf_event_open ptrace process_vm_readv process_vm_writev init_module "
    "finit_module delete_module kexec_load kexec_file_load acct swapon swapoff reboot "
    "sethostname setdomainname name_to_handle_at open_by_handle_at syslog vhangup kcmp "
    "pidfd_getfd process_madvise quotactl lookup_dcookie fanotify_init"
).split()


@dataclass(frozen=True)
class Arch:
    audit_arch: int
    numbers: dict[str, int]


# Syscall numbers from the kernel's uapi headers (x86_64: asm/unistd_64.h; aarch64 uses the
# generic table, asm-generic/unistd.h).
_X86_64 = dict(
    zip(
        ["socket", "clone", "clone3", "execve", "execveat", *_COMMON_DENIED],
        [41, 56, 435, 59, 322, 272, 308, 165, 166, 155, 428, 429, 430, 431, 432, 433, 442, 425]
        + [426, 427, 250, 248, 249, 321, 323, 298, 101, 310, 311, 175, 313, 176, 246, 320, 163]
        + [167, 168, 169, 170, 171, 303, 304, 103, 153, 312, 438, 440, 179, 212, 300],
        strict=True,
    )
)
_AARCH64 = dict(
    zip(
        ["socket", "clone", "clone3", "execve", "execveat", *_COMMON_DENIED],
        [198, 220, 435, 221, 281, 97, 268, 40, 39, 41, 428, 429, 430, 431, 432, 433, 442, 425]
        + [426, 427, 219, 217, 218, 280, 282, 241, 117, 270, 271, 105, 273, 106, 104, 294, 89]
        + [224, 225, 142, 161, 162, 264, 265, 116, 58, 272, 438, 440, 60, 18, 262],
        strict=True,
    )
)
_X86_64.update(iopl=172, ioperm=173, uselib=134)  # x86-only calls Docker also denies
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


def build_program(machine: str | None = None, deny_exec: bool = True) -> bytes:
    """The filter as packed `struct sock_filter` instructions."""
    arch = arch_for(machine)
    denied = [arch.numbers[n] for n in _COMMON_DENIED if n in arch.numbers]
    denied += [arch.numbers[n] for n in ("iopl", "ioperm", "uselib") if n in arch.numbers]
    if deny_exec:
        denied += [arch.numbers["execve"], arch.numbers["execveat"]]
    # Body: (opcode, true-target, false-target, k); a target is a label or 0 (next insn).
    body: list[tuple[int, str | int, str | int, int]] = [
        (_BPF_LD_W_ABS, 0, 0, _OFF_ARCH),
        (_BPF_JEQ_K, 0, "deny", arch.audit_arch),
        (_BPF_LD_W_ABS, 0, 0, _OFF_NR),
        (_BPF_JGE_K, "deny", 0, _X32_SYSCALL_BIT),
        *((_BPF_JEQ_K, "deny", 0, nr) for nr in denied),
        (_BPF_JEQ_K, "enosys", 0, arch.numbers["clone3"]),
        (_BPF_JEQ_K, "socket", 0, arch.numbers["socket"]),
        (_BPF_JEQ_K, "clone", "allow", arch.numbers["clone"]),
    ]
    socket = [(_BPF_LD_W_ABS, 0, 0, _OFF_ARG0)]
    socket += [(_BPF_JEQ_K, "allow", 0, family) for family in ALLOWED_FAMILIES]
    # ZeroMQ resolves interfaces through NETLINK_ROUTE (getifaddrs) and aborts without it; in
    # the sandbox's own network namespace it only shows the sandbox's loopback.
    socket += [(_BPF_JEQ_K, 0, "deny", AF_NETLINK), (_BPF_LD_W_ABS, 0, 0, _OFF_ARG2)]
    socket += [(_BPF_JEQ_K, "allow", "deny", NETLINK_ROUTE)]
    clone = [(_BPF_LD_W_ABS, 0, 0, _OFF_ARG0), (_BPF_JSET_K, "deny", "allow", NAMESPACE_FLAGS)]
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
