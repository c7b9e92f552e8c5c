"""Running code in the sandbox kernel and supervising it: deadline, crashes, floods, strays.

The kernel holds the session key, so it can forge any message, `status: idle` included. The
host therefore ends an execution on the shell channel's `execute_reply` to our request, then
collects outputs still in flight for a bounded time; the wall-clock deadline is the host's own
and holds whatever the kernel sends. A message that cannot be decoded, or a connection ZeroMQ
dropped because a frame was over the size limit, ends the execution and replaces the kernel:
`execute()` never raises for anything the code does.
"""

from __future__ import annotations

import asyncio
import queue
import signal
import time
from typing import TYPE_CHECKING, Any

import zmq
import zmq.asyncio

from . import processes
from .outputs import Caps, OutputCollector
from .result import ErrorInfo, ExecutionResult, Status

if TYPE_CHECKING:
    from jupyter_client import AsyncKernelManager

    from .channels import DisconnectWatch
    from .config import SandboxConfig

_LIMIT_SIGNALS = {signal.SIGXCPU: "CPU-time limit", signal.SIGXFSZ: "file-size limit"}
_LIMIT_ERRORS = {"MemoryError"}
_FLOOD_FACTOR = 20  # stop code that prints this many times the output cap


class _Malformed(Exception):
    """The kernel sent a message the host could not decode or handle."""


class ExecutionMixin:
    """`execute()` and its supervision; mixed into KernelSandbox (kernel.py)."""

    config: SandboxConfig
    _km: AsyncKernelManager | None
    _kc: Any
    _watch: DisconnectWatch | None
    _kernel_pid: int | None
    _keep: set[int] | None
    _scan: asyncio.Future[list[Any]] | None
    _lock: asyncio.Lock
    _replay: list[str]
    uid: int

    async def execute(self, code: str, timeout: float | None = None) -> ExecutionResult:
        """Run untrusted code; never raises for anything the code does."""
        async with self._lock:
            if not self.started:  # type: ignore[attr-defined]
                await self.start()  # type: ignore[attr-defined]
            return await self._run(code, timeout or self.config.default_timeout)

    async def _run(self, code: str, timeout: float, store_history: bool = True) -> ExecutionResult:
        started = time.monotonic()
        collector = OutputCollector(
            Caps(self.config.max_output_chars, self.config.max_displays, self.config.max_png_bytes)
        )
        msg_id = self._kc.execute(
            code, store_history=store_history, allow_stdin=False, stop_on_error=False
        )
        outcome, reply = await self._collect(msg_id, collector, started + timeout)
        status, state_lost = await self._settle(outcome, reply, msg_id, collector, timeout)
        early, self._scan = self._scan, None
        if outcome != "done" and early is not None:
            await asyncio.gather(early, return_exceptions=True)  # the kernel may be new
            early = None
        if await self._kill_strays(collector, early):
            state_lost = True
        return ExecutionResult(
            status=status,
            stdout="".join(collector.stdout),
            stderr="".join(collector.stderr),
            displays=collector.displays,
            error=collector.error,
            duration_s=time.monotonic() - started,
            state_lost=state_lost,
            notes=collector.summary_notes(),
            sequence=collector.sequence,
        )

    async def _collect(
        self, msg_id: str, collector: OutputCollector, deadline: float
    ) -> tuple[str, dict[str, Any] | None]:
        """Gather outputs until our execute_reply plus a bounded drain, or a reason to stop."""
        try:
            return await self._collect_loop(msg_id, collector, deadline)
        except _Malformed as exc:
            collector.notes.append(f"the kernel sent a malformed message ({exc})")
            return "malformed", None

    async def _collect_loop(
        self, msg_id: str, collector: OutputCollector, deadline: float
    ) -> tuple[str, dict[str, Any] | None]:
        flood = self.config.max_output_chars * _FLOOD_FACTOR
        poller = zmq.asyncio.Poller()
        shell, iopub = self._kc.shell_channel.socket, self._kc.iopub_channel.socket
        poller.register(shell, zmq.POLLIN)
        poller.register(iopub, zmq.POLLIN)
        reply: dict[str, Any] | None = None
        drain_until = float("inf")
        while True:
            now = time.monotonic()
            if now >= deadline:
                return "timeout", reply
            if now >= drain_until:
                return "done", reply
            if self._watch is not None and await self._watch.tripped():
                return "oversize", reply
            wait = min(deadline, drain_until, now + 0.25) - now
            ready = dict(await poller.poll(max(1, int(wait * 1000))))
            if not ready:
                if reply is None and not await self._km.is_alive():  # type: ignore[union-attr]
                    return "dead", None
                continue
            if reply is None and shell in ready:
                reply = await self._shell_reply(msg_id)
                if reply is not None:
                    drain_until = time.monotonic() + self.config.drain_seconds
                    self._start_scan()  # the code has finished: look for strays meanwhile
            if iopub in ready:
                idle = self._take_iopub(await self._receive("iopub"), msg_id, collector)
                if idle and reply is not None:
                    return "done", reply
                if collector.received_chars > flood:
                    return "flood", reply

    async def _receive(self, channel: str) -> dict[str, Any]:
        getter = self._kc.get_iopub_msg if channel == "iopub" else self._kc.get_shell_msg
        try:
            msg = await getter(timeout=0)
        except queue.Empty:
            return {}
        except Exception as exc:  # a hostile kernel can make decoding raise anything
            raise _Malformed(f"{type(exc).__name__} while decoding a {channel} message") from exc
        if not isinstance(msg, dict):
            raise _Malformed(f"a {channel} message that is not a mapping")
        return msg

    async def _shell_reply(self, msg_id: str) -> dict[str, Any] | None:
        msg = await self._receive("shell")
        parent = msg.get("parent_header")
        if not isinstance(parent, dict) or parent.get("msg_id") != msg_id:
            return None  # an old reply (after a timeout) or none at all
        if msg.get("msg_type") != "execute_reply":
            return None
        content = msg.get("content")
        return content if isinstance(content, dict) else {"status": "error"}

    def _take_iopub(self, msg: dict[str, Any], msg_id: str, collector: OutputCollector) -> bool:
        """Handle one iopub message; True when it is (claimed to be) our `idle`."""
        parent = msg.get("parent_header")
        if not isinstance(parent, dict) or parent.get("msg_id") != msg_id:
            return False
        content = msg.get("content")
        if msg.get("msg_type") == "status" and isinstance(content, dict):
            return content.get("execution_state") == "idle"
        try:
            collector.handle(msg)
        except Exception as exc:  # e.g. RecursionError on a deeply nested value
            raise _Malformed(f"{type(exc).__name__} while reading an output") from exc
        return False

    async def _settle(
        self,
        outcome: str,
        reply: dict[str, Any] | None,
        msg_id: str,
        collector: OutputCollector,
        timeout: float,
    ) -> tuple[Status, bool]:
        if outcome == "done":
            return _reply_status(reply, collector), False
        if outcome == "dead":
            return await self._after_death(collector)
        if outcome in ("oversize", "malformed"):
            what = (
                f"the kernel sent a message over the {self.config.max_message_mb} MiB limit"
                if outcome == "oversize"
                else "the kernel sent a message the host could not read"
            )
            await self._restart_after(collector, f"{what}; it was replaced")
            return ("limit" if outcome == "oversize" else "error"), True
        return await self._stop_runaway(outcome, reply, msg_id, collector, timeout)

    async def _stop_runaway(
        self,
        outcome: str,
        reply: dict[str, Any] | None,
        msg_id: str,
        collector: OutputCollector,
        timeout: float,
    ) -> tuple[Status, bool]:
        reason = (
            f"execution passed the {timeout:g} s time limit"
            if outcome == "timeout"
            else f"output passed {collector.received_chars} characters"
        )
        status: Status = "timeout" if outcome == "timeout" else "limit"
        if reply is None:
            await self.interrupt()  # type: ignore[attr-defined]
            grace = time.monotonic() + self.config.interrupt_grace
            quiet = OutputCollector(collector.caps)
            after, reply = await self._collect(msg_id, quiet, grace)
            if after not in ("done",) or reply is None:
                await self._restart_after(
                    collector,
                    f"{reason}; the kernel ignored the interrupt and was killed and restarted",
                )
                return status, True
        collector.notes.append(f"{reason}; interrupted, variables kept")
        return status, False

    async def _after_death(self, collector: OutputCollector) -> tuple[Status, bool]:
        code = self._exit_code()
        limit = _limit_signal(code)
        what = f"the kernel was stopped by the {limit}" if limit else _death_text(code)
        await self._restart_after(collector, f"{what}; it was restarted")
        return ("limit" if limit else "crashed"), True

    async def _restart_after(self, collector: OutputCollector, what: str) -> None:
        await self._restart()  # type: ignore[attr-defined]
        reloaded = " (datasets and inputs were loaded again)" if self._replay else ""
        collector.notes.append(f"{what}: all variables were lost{reloaded}")

    def _exit_code(self) -> int | None:
        process = getattr(self._km.provisioner, "process", None) if self._km else None
        return process.poll() if process is not None else None

    def _start_scan(self) -> None:
        if self._km is not None and self._kernel_pid is not None and self._scan is None:
            self._scan = asyncio.ensure_future(asyncio.to_thread(self._strays))

    async def _kill_strays(
        self, collector: OutputCollector, early: asyncio.Future[list[Any]] | None = None
    ) -> bool:
        """Kill what the code left running; a tree that keeps growing (a fork bomb) is ended
        by restarting the kernel, which takes its whole pid namespace down at once."""
        if self._km is None or self._kernel_pid is None:
            return False
        try:
            stray = await early if early is not None else self._strays()
            if not stray:
                return False
            processes.kill_all(stray)
            await asyncio.to_thread(processes.wait_gone, stray, 1.0)
            again = self._strays()
        except processes.ProcessTableUnavailable:
            return False
        if again:
            await self._restart_after(
                collector, f"the code kept starting processes ({len(stray)}+ killed)"
            )
            return True
        collector.notes.append(
            f"{len(stray)} process(es) started by the code were still running and were "
            "killed: nothing may outlive the execution that started it"
        )
        return False

    def _strays(self) -> list[Any]:
        assert self._kernel_pid is not None
        root = self._root_pid()  # type: ignore[attr-defined]
        if self._keep is None:  # the kernel's chain never changes during its life
            self._keep = processes.chain(root, self._kernel_pid)
        user = self.sandbox_user  # type: ignore[attr-defined]
        return processes.strays(root, self._kernel_pid, user, self._keep)


def _reply_status(reply: dict[str, Any] | None, collector: OutputCollector) -> Status:
    """What the execution did: an error in the reply counts even if no error output came."""
    failed = reply is None or reply.get("status") != "ok"
    if failed and collector.error is None:
        content = reply or {}
        collector.error = ErrorInfo(
            name=str(content.get("ename", "Error"))[:200],
            value=str(content.get("evalue", "the execution did not complete"))[:5_000],
            traceback=[],
        )
    if collector.error is None:
        return "ok"
    return "limit" if _is_limit_error(collector.error.name, collector.error.value) else "error"


def _is_limit_error(name: str, value: str) -> bool:
    return name in _LIMIT_ERRORS or "File too large" in value


def _limit_signal(code: int | None) -> str | None:
    if code is None:
        return None
    for sig, text in _LIMIT_SIGNALS.items():
        if code in (-sig, 128 + sig):
            return text
    return None


def _death_text(code: int | None) -> str:
    if code is None:
        return "the kernel died"
    number = -code if code < 0 else code - 128 if code > 128 else None
    if number:
        try:
            return f"the kernel died from signal {number} ({signal.Signals(number).name})"
        except ValueError:
            pass
    return f"the kernel exited with status {code}"


def describe(result: ExecutionResult) -> str:
    if result.error:
        return f"{result.error.name}: {result.error.value}"
    return f"status {result.status}; " + "; ".join(result.notes)
