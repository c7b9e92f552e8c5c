"""The seccomp filter, from inside a real sandbox kernel: each denied call fails with EPERM.

Syscall numbers are written out here from the kernel headers (not taken from the module under
test), and each call is made with arguments that would give a different result without the
filter (success, EFAULT, EBADF, EINVAL) wherever the call allows it.
"""

from __future__ import annotations

import errno
import platform

import pytest

from agentforge_jupyter.sandbox import SyncSandbox
from agentforge_jupyter.sandbox.seccomp import SeccompUnavailable, arch_for, build_program

NUMBERS = {
    "x86_64": {
        "unshare": 272, "setns": 308, "clone": 56, "clone3": 435, "mount": 165,
        "io_uring_setup": 425, "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321,
        "userfaultfd": 323, "perf_event_open": 298, "ptrace": 101, "process_vm_readv": 310,
        "process_vm_writev": 311, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "kexec_load": 246, "kexec_file_load": 320, "socket": 41,
    },
    "aarch64": {
        "unshare": 97, "setns": 268, "clone": 220, "clone3": 435, "mount": 40,
        "io_uring_setup": 425, "keyctl": 219, "add_key": 217, "request_key": 218, "bpf": 280,
        "userfaultfd": 282, "perf_event_open": 241, "ptrace": 117, "process_vm_readv": 270,
        "process_vm_writev": 271, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "kexec_load": 104, "kexec_file_load": 294, "socket": 198,
    },
}  # fmt: skip

CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWNS, SIGCHLD = 0x10000000, 0x40000000, 0x20000, 17

# name -> (syscall, arguments); the numbers are looked up for this machine.
CALLS = {
    "unshare(NEWUSER|NEWNS|NEWNET)": ("unshare", (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET,)),
    "setns": ("setns", (-1, 0)),
    "clone(NEWUSER)": ("clone", (CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)),
    "clone(NEWNET)": ("clone", (CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0)),
    "mount": ("mount", (b"none", b"/tmp", b"tmpfs", 0, 0)),
    "io_uring_setup": ("io_uring_setup", (1, 0)),
    "keyctl": ("keyctl", (0, -3, 0)),
    "add_key": ("add_key", (b"user", b"k", b"v", 1, -3)),
    "request_key": ("request_key", (b"user", b"k", 0, -3)),
    "bpf": ("bpf", (0, 0, 0)),
    "userfaultfd": ("userfaultfd", (1,)),
    "perf_event_open": ("perf_event_open", (0, 0, -1, -1, 0)),
    "ptrace(TRACEME)": ("ptrace", (0, 0, 0, 0)),
    "process_vm_readv": ("process_vm_readv", ("PID", 0, 0, 0, 0, 0)),
    "process_vm_writev": ("process_vm_writev", ("PID", 0, 0, 0, 0, 0)),
    "init_module": ("init_module", (0, 0, b"")),
    "finit_module": ("finit_module", (-1, b"", 0)),
    "delete_module": ("delete_module", (b"x", 0)),
    "kexec_load": ("kexec_load", (0, 0, 0, 0)),
    "kexec_file_load": ("kexec_file_load", (-1, -1, 0, 0, 0)),
    "socket(AF_VSOCK)": ("socket", (40, 1, 0)),
    "socket(AF_NETLINK, NETLINK_NETFILTER)": ("socket", (16, 3, 12)),
    "socket(AF_PACKET)": ("socket", (17, 3, 0)),
}


@pytest.fixture(scope="module")
def sandbox(full_isolation_module: None):
    with SyncSandbox(isolation="full", default_timeout=30.0) as sb:
        yield sb


@pytest.fixture(scope="module")
def full_isolation_module() -> None:
    from agentforge_jupyter.sandbox.isolation import detect_isolation

    from .conftest import require

    report = detect_isolation()
    require(report.level == "full", f"full sandbox isolation unavailable: {report.reason}")
    require(
        platform.machine() in NUMBERS, f"no syscall table in this test for {platform.machine()}"
    )


def errno_inside(sandbox: SyncSandbox, call: str, args: tuple) -> int:
    number = NUMBERS[platform.machine()][call]
    literal = ", ".join("os.getpid()" if a == "PID" else repr(a) for a in args)
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.syscall.restype = ctypes.c_long\n"
        f"r = libc.syscall({number}, {literal})\n"
        "if r == 0 and os.getpid() != PARENT:\n    os._exit(0)\n"
        "print(r, ctypes.get_errno())\n"
    )
    result = sandbox.execute("import os\nPARENT = os.getpid()\n" + code)
    assert result.status == "ok", result
    value, err = (int(x) for x in result.stdout.split())
    return err if value == -1 else 0


@pytest.mark.parametrize("name", sorted(CALLS))
def test_denied_call_fails_with_eperm(sandbox: SyncSandbox, name: str) -> None:
    call, args = CALLS[name]
    assert errno_inside(sandbox, call, args) == errno.EPERM


def test_clone3_fails_with_enosys_so_libc_falls_back(sandbox: SyncSandbox) -> None:
    assert errno_inside(sandbox, "clone3", (0, 0)) == errno.ENOSYS
    threads = sandbox.execute(
        "import threading\nout = []\nt = threading.Thread(target=out.append, args=(1,))\n"
        "t.start(); t.join(); print(out)"
    )
    assert threads.stdout == "[1]\n"


def test_allowed_families_and_fork_still_work(sandbox: SyncSandbox) -> None:
    result = sandbox.execute(
        "import os, socket\n"
        "for family in (socket.AF_UNIX, socket.AF_INET, socket.AF_INET6):\n"
        "    socket.socket(family, socket.SOCK_STREAM).close()\n"
        "pid = os.fork()\nif pid == 0:\n    os._exit(3)\n"
        "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))"
    )
    assert result.stdout == "3\n", result


def test_both_architectures_build_and_unknown_ones_refuse_loudly() -> None:
    for machine in ("x86_64", "aarch64", "arm64", "amd64"):
        assert len(build_program(machine)) % 8 == 0
    with pytest.raises(SeccompUnavailable, match=r"sparc64.*without its seccomp filter"):
        arch_for("sparc64")
