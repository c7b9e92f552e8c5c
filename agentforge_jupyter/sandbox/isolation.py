"""Which isolation this machine can give the sandbox, and the bubblewrap command that gives it.

Full isolation: bubblewrap with new pid, net, ipc and uts namespaces, a minimal read-only
filesystem, a cleared environment and die-with-parent. As root, bubblewrap makes the mounts
without a user namespace and `setpriv` then drops to an unprivileged uid with no capabilities
(RLIMIT_NPROC is ignored for root, so a fork bomb would not stop otherwise). As another user,
a user namespace does the same job. Reduced isolation: a plain local kernel with rlimits, a
clean environment and the exec filter, reported loudly.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import platform
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

INSTALL_HINT = (
    "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install "
    "bubblewrap`) and make sure unprivileged user namespaces are enabled"
)


# Host information bubblewrap's fresh /proc would still show: the kernel command line (may carry
# secrets and host layout), the kernel build configuration, per-user key counts.
PROC_MASKS = ("/proc/cmdline", "/proc/config.gz", "/proc/key-users")


class ReducedIsolationWarning(UserWarning):
    """The sandbox runs without bubblewrap: code is limited but not isolated from the host."""


@dataclass(frozen=True)
class IsolationReport:
    level: Literal["full", "reduced"]
    mechanism: str
    bubblewrap: str | None
    bubblewrap_version: str | None
    setpriv: str | None
    as_root: bool
    reason: str
    # Empty when the seccomp filter can be loaded here, else why not (reduced isolation).
    seccomp_problem: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _version(binary: str) -> str | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().split()[-1] if out.stdout.strip() else None


def _probe(argv: list[str]) -> str | None:
    """Run a trivial command the way the kernel will run; None on success, else the error."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    return None if out.returncode == 0 else (out.stderr.strip() or f"exit {out.returncode}")


def seccomp_problem() -> str:
    """Why the seccomp filter cannot be loaded on this machine, or "" when it can."""
    if sys.platform != "linux":
        return f"seccomp exists only on Linux, not on {sys.platform}"
    from .seccomp import SeccompUnavailable, arch_for

    try:
        arch_for(platform.machine())
    except SeccompUnavailable as exc:
        return str(exc)
    return ""


def detect_isolation() -> IsolationReport:
    """Probe bubblewrap once per process; whether seccomp can be loaded is checked each time."""
    return dataclasses.replace(_detect_bubblewrap(), seccomp_problem=seccomp_problem())


@functools.lru_cache(maxsize=1)
def _detect_bubblewrap() -> IsolationReport:
    bwrap = shutil.which("bwrap")
    setpriv = shutil.which("setpriv")
    as_root = os.geteuid() == 0
    if bwrap is None:
        return IsolationReport(
            "reduced",
            "plain kernel",
            None,
            None,
            setpriv,
            as_root,
            f"bubblewrap (bwrap) was not found on PATH: {INSTALL_HINT}",
        )
    version = _version(bwrap)
    if as_root and setpriv is None:
        return IsolationReport(
            "reduced",
            "plain kernel",
            bwrap,
            version,
            None,
            as_root,
            "running as root but `setpriv` (util-linux) is missing, so the kernel could not "
            "drop to an unprivileged user: install util-linux",
        )
    probe = BwrapCommand(bwrap=bwrap, setpriv=setpriv, as_root=as_root, uid=65534)
    error = _probe(probe.argv(["/bin/true" if Path("/bin/true").exists() else "true"]))
    if error is not None:
        return IsolationReport(
            "reduced",
            "plain kernel",
            bwrap,
            version,
            setpriv,
            as_root,
            f"bubblewrap is installed but could not create a sandbox ({error}): {INSTALL_HINT}",
        )
    mechanism = "bubblewrap + setpriv (root)" if as_root else "bubblewrap + user namespace"
    return IsolationReport("full", mechanism, bwrap, version, setpriv, as_root, "")


def warn_reduced(report: IsolationReport, reason: str | None = None) -> None:
    warnings.warn(
        "AgentForge sandbox runs with REDUCED isolation: generated code runs in a plain local "
        f"kernel with resource limits and a clean environment, but it can read and write your "
        f"files and reach the network. Reason: {reason or report.reason}",
        ReducedIsolationWarning,
        stacklevel=3,
    )


def python_paths() -> list[Path]:
    """Host directories the sandbox's Python needs, read-only, at their own paths."""
    executable = Path(sys.executable).resolve()
    package_root = Path(__file__).resolve().parents[1]
    candidates = [Path(sys.prefix), Path(sys.base_prefix), executable.parent.parent, package_root]
    return _outermost(p.resolve() for p in candidates)


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """Drop paths that lie inside another path of the list."""
    unique = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in unique:
        if not any(path == k or k in path.parents for k in kept):
            kept.append(path)
    return kept


@dataclass
class BwrapCommand:
    """Builds the bubblewrap argv for one sandbox."""

    bwrap: str
    setpriv: str | None
    as_root: bool
    uid: int
    tmp_mb: int = 256
    env: dict[str, str] | None = None
    ro_paths: tuple[Path, ...] = ()
    rw_binds: tuple[tuple[Path, str], ...] = ()
    ro_binds: tuple[tuple[Path, str], ...] = ()
    chdir: str | None = None
    # An empty host file bound over PROC_MASKS (/dev/null cannot be: binds are nodev).
    mask_file: Path | None = None

    def argv(self, command: list[str]) -> list[str]:
        args = [self.bwrap, *self._namespaces(), *self._filesystem(), *self._environment()]
        if self.chdir:
            args += ["--chdir", self.chdir]
        return [*args, "--", *self._drop_privileges(), *command]

    def _namespaces(self) -> list[str]:
        args = [
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "sandbox",
            "--die-with-parent",
            "--new-session",
        ]
        if not self.as_root:
            args += [
                "--unshare-user",
                "--uid",
                str(self.uid),
                "--gid",
                str(self.uid),
                "--cap-drop",
                "ALL",
            ]
        return args

    def _filesystem(self) -> list[str]:
        args = ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            args += _system_dir(name)
        for extra in ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts", "/etc/ssl/certs"):
            args += ["--ro-bind-try", extra, extra]
        args += ["--proc", "/proc", "--dev", "/dev"]
        for masked in PROC_MASKS if self.mask_file else ():
            if Path(masked).exists():  # nothing can be bound over a file that is absent
                args += ["--ro-bind", str(self.mask_file), masked]
        args += ["--perms", "1777", "--size", str(self.tmp_mb * 2**20), "--tmpfs", "/tmp"]
        made: set[str] = {"/", "/usr", "/tmp"}
        for path in self.ro_paths:
            args += [*_parents(path, made), "--ro-bind", str(path), str(path)]
        for host, inside in self.rw_binds:
            args += [*_parents(Path(inside), made), "--bind", str(host), inside]
            made.add(inside)
        for host, inside in self.ro_binds:
            args += [*_parents(Path(inside), made), "--ro-bind", str(host), inside]
            made.add(inside)
        return args

    def _environment(self) -> list[str]:
        args = ["--clearenv"]
        for key, value in (self.env or {}).items():
            args += ["--setenv", key, value]
        return args

    def _drop_privileges(self) -> list[str]:
        if not self.as_root:
            return []
        assert self.setpriv is not None
        uid = str(self.uid)
        return [
            self.setpriv,
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ]


def _system_dir(name: str) -> list[str]:
    host = Path("/") / name
    if host.is_symlink():
        return ["--symlink", os.readlink(host), str(host)]
    if host.is_dir():
        return ["--ro-bind", str(host), str(host)]
    return []


def _parents(path: Path, made: set[str]) -> list[str]:
    """bubblewrap makes missing parents mode 0700; make them 0755 so the sandbox user can pass."""
    args: list[str] = []
    for parent in reversed(path.parents):
        key = str(parent)
        if key in made:
            continue
        made.add(key)
        args += ["--perms", "0755", "--dir", key]
    return args


# Callers (tests, doctor) clear the probe cache through the public function.
detect_isolation.cache_clear = _detect_bubblewrap.cache_clear  # type: ignore[attr-defined]
