"""KernelSandbox: generated code runs in its own ipykernel, isolated by bubblewrap.

This module is the life cycle: choose the isolation, prepare the private directories, start the
kernel under bubblewrap, connect to it safely (channels.py), stop and restart it. Running code
and supervising it is execution.py; data across the boundary is transfers.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any, cast

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

from ..errors import IsolationUnavailableError, SandboxError
from . import acl, channels, processes
from .bootstrap import KERNEL_SETUP, MATPLOTLIB_SETUP
from .config import SandboxConfig
from .execution import ExecutionMixin, describe
from .isolation import IsolationReport, detect_isolation, warn_reduced
from .launch import LaunchPlan
from .parquet import parquet_ready
from .transfers import TransferMixin
from .workspace import SandboxDirs, TransferError


class _OneSpec(KernelSpecManager):
    """Hands jupyter_client the sandbox's kernel spec through its public extension point."""

    def __init__(self, spec: KernelSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec

    def get_kernel_spec(self, kernel_name: str, *args: Any, **kwargs: Any) -> KernelSpec:
        return self.spec


class KernelSandbox(ExecutionMixin, TransferMixin):
    """An isolated kernel for untrusted code. Use as `async with KernelSandbox() as sb:`.

    Settings come from `config` (a SandboxConfig; front ends build it from their own config)
    and keyword overrides; nothing is read from the running IPython."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        preload: tuple[str, ...] = (),
        **settings: Any,
    ) -> None:
        # A private copy: overrides for this sandbox must not leak into a shared config.
        values = {n: getattr(config, n) for n in config.trait_names(config=True)} if config else {}
        self.config = SandboxConfig(**values)
        for name, value in settings.items():
            if name == "dataset_files":
                value = [str(v) for v in value]
            setattr(self.config, name, str(value) if isinstance(value, Path) else value)
        self.preload = preload
        self.isolation: IsolationReport | None = None
        self.dirs: SandboxDirs | None = None
        self._km: AsyncKernelManager | None = None
        self._kc: Any = None
        self._watch: channels.DisconnectWatch | None = None
        self._kernel_pid: int | None = None
        self._keep: set[int] | None = None
        self._scan: asyncio.Future[list[Any]] | None = None
        self._lock = asyncio.Lock()
        self._replay: list[str] = []  # trusted set-up code re-run after a restart
        self.uid = self.config.sandbox_uid if self.config.sandbox_uid >= 0 else -1
        self.restarts = 0
        self._grants: list[acl.Grant] = []  # read access given to the sandbox uid alone

    # ----- life cycle -------------------------------------------------------------------
    async def __aenter__(self) -> KernelSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    @property
    def started(self) -> bool:
        return self._kc is not None

    @property
    def full_isolation(self) -> bool:
        return self.isolation is not None and self.isolation.level == "full"

    @property
    def sandbox_user(self) -> int | None:
        """The uid the kernel runs as when it is not ours (root drops to it), else None."""
        return self.uid if self.full_isolation and self.isolation.as_root else None  # type: ignore[union-attr]

    async def start(self) -> None:
        if self.started:
            return
        self.isolation = self._choose_isolation()
        if self.uid < 0 and self.full_isolation:
            self.uid = processes.free_uid()
        if self.dirs is None:  # after a failed restart the same directories are used again
            self.dirs = SandboxDirs.create(
                self.config.workspace or None, self.sandbox_user, self.config.disk_mb
            )
        try:
            if self.sandbox_user is not None:
                self._grants = self._plan().check_shared_readable()
            await self._start_kernel()
        except BaseException:
            await self.shutdown()
            raise

    def _choose_isolation(self) -> IsolationReport:
        report = detect_isolation()
        if self.config.isolation == "none":
            return IsolationReport(
                "reduced",
                "plain kernel",
                report.bubblewrap,
                report.bubblewrap_version,
                report.setpriv,
                report.as_root,
                "isolation='none' was configured",
                report.seccomp_problem,
            )
        problems = [report.reason] if report.level != "full" else []
        problem = "; ".join([*problems, *filter(None, [report.seccomp_problem])])
        if not problem:
            return report
        if self.config.isolation == "full":
            raise IsolationUnavailableError(
                f"Full sandbox isolation was required but is not available: {problem}"
            )
        warn_reduced(report, problem)
        return report

    async def _start_kernel(self) -> None:
        assert self.dirs is not None
        dirs = self.dirs
        for leftover in (dirs.ipc, dirs.links):  # a dead kernel's sockets are not reused
            dirs.clear(leftover)
        spec = KernelSpec(
            argv=self._plan().argv(),
            display_name="AgentForge sandbox",
            language="python",
            interrupt_mode="message",
            env={},
        )
        km = AsyncKernelManager(
            kernel_name="agentforge-sandbox",
            kernel_spec_manager=_OneSpec(spec),
            transport="ipc",
            ip=str(dirs.ipc / "k"),
            connection_file=str(dirs.connection_file),
            # No socket of this context ever reconnects, so the manager's own control socket
            # (made right after launch) can never follow a link planted later in ipc/.
            context=channels.bounded_context(
                self.config.max_message_mb * 2**20, self.config.receive_queue, reconnect=False
            ),
        )
        km.write_connection_file()
        dirs.connection_file.chmod(0o600)
        if self.sandbox_user is not None:
            os.chown(dirs.connection_file, self.uid, self.uid)
        log = os.open(dirs.log, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
        try:
            await km.start_kernel(
                env=self._plan().env(), cwd=str(dirs.workspace), stdout=log, stderr=log
            )
        finally:
            os.close(log)
        self._km = km
        try:
            await self._connect(km)
        except (RuntimeError, SandboxError) as exc:
            await self._stop_kernel()
            raise SandboxError(
                f"The sandbox kernel did not start: {exc}. Kernel log:\n{self._log_tail()}\n"
                "Run `agentforge doctor` to check the isolation set-up."
            ) from exc
        root = self._root_pid()
        self._kernel_pid = self._find_kernel(root)
        self._keep = None
        await self._setup_kernel()

    async def _connect(self, km: AsyncKernelManager) -> None:
        """Connect through host-only hard links to the kernel's sockets (channels.py)."""
        assert self.dirs is not None
        # a TypedDict, read here with keys built from the channel names
        info = cast("dict[str, Any]", km.get_connection_info())
        names = [channels.socket_name(km.ip, int(info[f"{c}_port"])) for c in channels.CONNECTED]
        await channels.wait_bound(self.dirs.ipc, names, km.is_alive, self.config.startup_timeout)
        channels.link_sockets(self.dirs.ipc, self.dirs.links, names)
        # The links cannot change, so these sockets may retry (the kernel may bind before it
        # listens).
        context = channels.bounded_context(
            self.config.max_message_mb * 2**20, self.config.receive_queue
        )
        self._kc = km.client(ip=str(self.dirs.links / "k"), context=context)
        self._kc.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=True)
        self._watch = channels.DisconnectWatch(
            [self._kc.shell_channel.socket, self._kc.iopub_channel.socket]
        )
        await self._kc.wait_for_ready(timeout=self.config.startup_timeout)

    def _find_kernel(self, root: int) -> int | None:
        if not self.full_isolation:
            return root
        try:
            return processes.find_kernel(root)
        except processes.ProcessTableUnavailable:
            return None

    def _plan(self) -> LaunchPlan:
        assert self.dirs is not None and self.isolation is not None
        return LaunchPlan(self.config, self.dirs, self.isolation, self.uid)

    def _root_pid(self) -> int:
        assert self._km is not None
        process = getattr(self._km.provisioner, "process", None)
        if process is None:
            raise SandboxError("the kernel provisioner exposes no process; cannot supervise it")
        return int(process.pid)

    async def _setup_kernel(self) -> None:
        setup = [KERNEL_SETUP, MATPLOTLIB_SETUP]
        if self.preload:
            setup.append("\n".join(f"import {m}" for m in self.preload))
        for code in [*setup, *self._replay]:
            result = await self._run(code, self.config.startup_timeout, store_history=False)
            if not result.ok:
                raise SandboxError(f"sandbox set-up failed: {describe(result)}")

    async def restart(self) -> None:
        """A fresh kernel: variables are lost, workspace files and loaded datasets are kept."""
        async with self._lock:
            await self._restart()

    async def _restart(self) -> None:
        await self._stop_kernel()
        self.restarts += 1
        await self._start_kernel()

    async def _stop_kernel(self) -> None:
        # A stray scan of this kernel may still be running in a thread: let it finish while
        # the kernel exists, and never hand it to the next kernel's first execution.
        scan, self._scan = self._scan, None
        if scan is not None:
            await asyncio.gather(scan, return_exceptions=True)
        # Take ownership before the next await: a shutdown may race a restart or a second
        # shutdown (a closing session while a run tears down), and each must stop a kernel once.
        members = self._members()
        watch, self._watch = self._watch, None
        kc, self._kc = self._kc, None
        km, self._km = self._km, None
        if watch is not None:
            watch.close()
        if kc is not None:
            kc.stop_channels()
            kc.context.destroy(linger=0)
        if km is not None:
            with contextlib.suppress(Exception):  # a dead kernel may fail to shut down cleanly
                await km.shutdown_kernel(now=True)
            km.context.destroy(linger=0)
        await asyncio.to_thread(processes.wait_gone, members, 5.0)
        if self.sandbox_user is not None:
            # RLIMIT_NPROC counts per uid: a fork bomb's last children must be gone before
            # the next kernel of this uid can start.
            await asyncio.to_thread(processes.end_all_of, self.uid, 10.0)

    def _members(self) -> list[Any]:
        """Every process of the sandbox, to make sure all of it is gone after a stop."""
        found: list[Any] = []
        try:
            if self._km is not None and getattr(self._km.provisioner, "process", None):
                found += processes.tree(self._root_pid())
            if self.sandbox_user is not None:
                found += processes.owned_by(self.uid)
        except processes.ProcessTableUnavailable:
            pass
        return found

    async def shutdown(self) -> None:
        try:
            await self._stop_kernel()
        finally:
            while self._grants:
                acl.revoke(self._grants.pop())
            if self.dirs is not None:
                self.dirs.remove()
                self.dirs = None

    async def interrupt(self) -> None:
        """An interrupt_request on our own control channel (which uses the host-only links)."""
        if self._kc is not None:
            self._kc.control_channel.send(self._kc.session.msg("interrupt_request", content={}))

    async def is_alive(self) -> bool:
        return self._km is not None and await self._km.is_alive()

    def _log_tail(self, lines: int = 30) -> str:
        if self.dirs is None:
            return "(no log)"
        try:
            fd = os.open(self.dirs.log, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return "(no log)"
        with os.fdopen(fd, "rb") as handle:
            size = os.fstat(fd).st_size
            handle.seek(max(0, size - 64_000))
            text = handle.read().decode(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


__all__ = ["KernelSandbox", "TransferError", "parquet_ready"]
