"""KernelSandbox: generated code runs in its own ipykernel, isolated by bubblewrap.

The host talks to the kernel over ipc sockets in a private directory (TCP cannot cross the
network namespace), interrupts it with messages, watches the wall clock, and restarts it when
it dies or stops answering. Every output is re-checked on the host (outputs.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pandas as pd
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec

from ..errors import IsolationUnavailableError, SandboxError
from . import processes
from .bootstrap import KERNEL_SETUP, MATPLOTLIB_SETUP, dataset_load_code
from .config import SandboxConfig
from .isolation import BwrapCommand, IsolationReport, detect_isolation, python_paths, warn_reduced
from .outputs import Caps, OutputCollector
from .result import ExecutionResult, Status
from .workspace import SandboxDirs, TransferError, read_outbox_file

WORKSPACE_INSIDE = "/workspace"
TOOLS_INSIDE = "/opt/agentforge/tools"
_SECRET_MARKERS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")
_LIMIT_SIGNALS = {signal.SIGXCPU: "CPU-time limit", signal.SIGXFSZ: "file-size limit"}
_LIMIT_ERRORS = {"MemoryError"}
_FLOOD_FACTOR = 20  # stop code that prints this many times the output cap


class KernelSandbox:
    """An isolated kernel for untrusted code. Use as `async with KernelSandbox() as sb:`."""

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        preload: tuple[str, ...] = (),
        **settings: Any,
    ) -> None:
        # A private copy: overrides for this sandbox must not leak into a shared config.
        values = {n: getattr(config, n) for n in config.trait_names(config=True)} if config else {}
        self.config = SandboxConfig(config=_ambient_config(), **values)
        for name, value in settings.items():
            setattr(self.config, name, str(value) if isinstance(value, Path) else value)
        self.preload = preload
        self.isolation: IsolationReport | None = None
        self.dirs: SandboxDirs | None = None
        self._km: AsyncKernelManager | None = None
        self._kc: Any = None
        self._kernel_pid: int | None = None
        self._lock = asyncio.Lock()
        self._replay: list[str] = []  # trusted set-up code re-run after a restart
        self.uid = self.config.sandbox_uid if self.config.sandbox_uid >= 0 else _free_uid()
        self.restarts = 0

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

    async def start(self) -> None:
        if self.started:
            return
        self.isolation = self._choose_isolation()
        uid = self.uid if self.full_isolation and self.isolation.as_root else None
        for shared in (self.config.datasets_dir, self.config.tools_dir):
            if uid is not None and shared:
                _check_readable_by_others(Path(shared))
        self.dirs = SandboxDirs.create(self.config.workspace or None, uid)
        await self._start_kernel()

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
            )
        if report.level == "full":
            return report
        if self.config.isolation == "full":
            raise IsolationUnavailableError(
                f"Full sandbox isolation was required but is not available: {report.reason}"
            )
        warn_reduced(report)
        return report

    async def _start_kernel(self) -> None:
        assert self.dirs is not None and self.isolation is not None
        dirs = self.dirs
        km = AsyncKernelManager(
            transport="ipc", ip=str(dirs.ipc / "k"), connection_file=str(dirs.connection_file)
        )
        km._kernel_spec = KernelSpec(
            argv=self._kernel_argv(),
            display_name="AgentForge sandbox",
            language="python",
            interrupt_mode="message",
            env={},
        )
        km.write_connection_file()
        dirs.connection_file.chmod(0o600)
        if self.full_isolation and self.isolation.as_root:
            os.chown(dirs.connection_file, self.uid, self.uid)
        log = open(dirs.log, "ab")  # noqa: SIM115 - the kernel keeps writing to it
        try:
            await km.start_kernel(
                env=self._kernel_env(), cwd=str(dirs.workspace), stdout=log, stderr=log
            )
        finally:
            log.close()
        self._km = km
        self._kc = km.client()
        self._kc.start_channels()
        try:
            await self._kc.wait_for_ready(timeout=self.config.startup_timeout)
        except RuntimeError as exc:
            await self._stop_kernel()
            raise SandboxError(
                f"The sandbox kernel did not start: {exc}. Kernel log:\n{self._log_tail()}\n"
                "Run `agentforge doctor` to check the isolation set-up."
            ) from exc
        root = self._root_pid()
        self._kernel_pid = processes.find_kernel(root) if self.full_isolation else root
        await self._setup_kernel()

    def _kernel_argv(self) -> list[str]:
        import json
        import sys

        python = sys.executable
        launcher = [
            python,
            "-m",
            "agentforge_jupyter.sandbox.launcher",
            "--limits",
            json.dumps(self.config.rlimits()),
        ]
        if self.config.deny_exec:
            launcher.append("--deny-exec")
        launcher += ["--", "-f", "{connection_file}"]
        if not self.full_isolation:
            return launcher
        return self._bwrap().argv(launcher)

    def _bwrap(self) -> BwrapCommand:
        assert self.dirs is not None and self.isolation is not None
        dirs = self.dirs
        ro_binds: list[tuple[Path, str]] = [
            (dirs.inbox, str(dirs.inbox)),
            (dirs.connection_file, str(dirs.connection_file)),
        ]
        if self.config.datasets_dir:
            ro_binds.append((Path(self.config.datasets_dir), f"{WORKSPACE_INSIDE}/data"))
        if self.config.tools_dir:
            ro_binds.append((Path(self.config.tools_dir), TOOLS_INSIDE))
        return BwrapCommand(
            bwrap=self.isolation.bubblewrap or "bwrap",
            setpriv=self.isolation.setpriv,
            as_root=self.isolation.as_root,
            uid=self.uid,
            tmp_mb=self.config.tmp_mb,
            env=self._kernel_env(inside=True),
            ro_paths=tuple(python_paths() + [Path(p) for p in self.config.extra_ro_paths]),
            rw_binds=(
                (dirs.workspace, WORKSPACE_INSIDE),
                (dirs.ipc, str(dirs.ipc)),
                (dirs.outbox, str(dirs.outbox)),
            ),
            ro_binds=tuple(ro_binds),
            chdir=WORKSPACE_INSIDE,
        )

    def _kernel_env(self, inside: bool = False) -> dict[str, str]:
        assert self.dirs is not None
        home = "/tmp" if inside or self.full_isolation else str(self.dirs.private / "home")
        if not inside and not self.full_isolation:
            Path(home).mkdir(exist_ok=True)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "MPLCONFIGDIR": f"{home}/.matplotlib",
            "IPYTHONDIR": f"{home}/.ipython",
            "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONNOUSERSITE": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
        if self.config.tools_dir:
            env["PYTHONPATH"] = TOOLS_INSIDE if inside else str(Path(self.config.tools_dir))
        for name in self.config.pass_env:
            if name in os.environ and not any(m in name.upper() for m in _SECRET_MARKERS):
                env[name] = os.environ[name]
        if not self.full_isolation and self.config.datasets_dir:
            self._link_datasets()
        return env

    def _link_datasets(self) -> None:
        assert self.dirs is not None
        link = self.dirs.workspace / "data"
        if not link.exists() and not link.is_symlink():
            link.symlink_to(Path(self.config.datasets_dir).resolve(), target_is_directory=True)

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
                raise SandboxError(f"sandbox set-up failed: {_describe(result)}")

    async def restart(self) -> None:
        """A fresh kernel: variables are lost, workspace files and loaded datasets are kept."""
        async with self._lock:
            await self._restart()

    async def _restart(self) -> None:
        await self._stop_kernel()
        self.restarts += 1
        await self._start_kernel()

    async def _stop_kernel(self) -> None:
        tree = self._tree()
        if self._kc is not None:
            self._kc.stop_channels()
            self._kc = None
        if self._km is not None:
            with contextlib.suppress(Exception):  # a dead kernel may fail to shut down cleanly
                await self._km.shutdown_kernel(now=True)
            self._km = None
        await _wait_gone(tree)

    def _tree(self) -> list[int]:
        """The sandbox's whole process tree, to make sure all of it is gone after a stop."""
        if self._km is None or getattr(self._km.provisioner, "process", None) is None:
            return []
        root = self._root_pid()
        return [root, *(p.pid for p in processes.descendants(root))]

    async def shutdown(self) -> None:
        await self._stop_kernel()
        if self.dirs is not None:
            self.dirs.remove()
            self.dirs = None

    async def interrupt(self) -> None:
        if self._km is not None:
            await self._km.interrupt_kernel()

    async def is_alive(self) -> bool:
        return self._km is not None and await self._km.is_alive()

    # ----- execution --------------------------------------------------------------------
    async def execute(self, code: str, timeout: float | None = None) -> ExecutionResult:
        """Run untrusted code; never raises for anything the code does."""
        async with self._lock:
            if not self.started:
                await self.start()
            return await self._run(code, timeout or self.config.default_timeout)

    async def _run(self, code: str, timeout: float, store_history: bool = True) -> ExecutionResult:
        started = time.monotonic()
        collector = OutputCollector(
            Caps(self.config.max_output_chars, self.config.max_displays, self.config.max_png_bytes)
        )
        msg_id = self._kc.execute(
            code, store_history=store_history, allow_stdin=False, stop_on_error=False
        )
        outcome = await self._wait_idle(msg_id, collector, started + timeout)
        status, state_lost = await self._settle(outcome, msg_id, collector, timeout)
        if await self._kill_strays(collector):
            state_lost = True
        error = collector.error
        if status == "error" and error is not None and _is_limit_error(error.name, error.value):
            status = "limit"
        return ExecutionResult(
            status=status,
            stdout="".join(collector.stdout),
            stderr="".join(collector.stderr),
            displays=collector.displays,
            error=error,
            duration_s=time.monotonic() - started,
            state_lost=state_lost,
            notes=collector.summary_notes(),
        )

    async def _wait_idle(self, msg_id: str, collector: OutputCollector, deadline: float) -> str:
        flood = self.config.max_output_chars * _FLOOD_FACTOR
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            try:
                msg = await self._kc.get_iopub_msg(timeout=min(remaining, 0.25))
            except queue.Empty:
                if not await self._km.is_alive():
                    return "dead"
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                await self._drain_reply(msg_id)
                return "idle"
            collector.handle(msg)
            if collector.received_chars > flood:
                return "flood"

    async def _drain_reply(self, msg_id: str) -> None:
        """Consume the shell reply so replies do not pile up; a missing one is harmless."""
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                reply = await self._kc.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return

    async def _settle(
        self, outcome: str, msg_id: str, collector: OutputCollector, timeout: float
    ) -> tuple[Status, bool]:
        if outcome == "idle":
            return ("error" if collector.error else "ok"), False
        if outcome == "dead":
            return await self._after_death(collector)
        reason = (
            f"execution passed the {timeout:g} s time limit"
            if outcome == "timeout"
            else f"output passed {collector.received_chars} characters"
        )
        status: Status = "timeout" if outcome == "timeout" else "limit"
        await self.interrupt()
        grace = time.monotonic() + self.config.interrupt_grace
        if await self._wait_idle(msg_id, OutputCollector(collector.caps), grace) == "idle":
            collector.notes.append(f"{reason}; interrupted, variables kept")
            return status, False
        await self._restart_after(
            collector, f"{reason}; the kernel ignored the interrupt and was killed and restarted"
        )
        return status, True

    async def _after_death(self, collector: OutputCollector) -> tuple[Status, bool]:
        code = self._exit_code()
        limit = _limit_signal(code)
        what = f"the kernel was stopped by the {limit}" if limit else _death_text(code)
        await self._restart_after(collector, f"{what}; it was restarted")
        return ("limit" if limit else "crashed"), True

    async def _restart_after(self, collector: OutputCollector, what: str) -> None:
        await self._restart()
        reloaded = " (datasets and inputs were loaded again)" if self._replay else ""
        collector.notes.append(f"{what}: all variables were lost{reloaded}")

    def _exit_code(self) -> int | None:
        process = getattr(self._km.provisioner, "process", None) if self._km else None
        return process.poll() if process is not None else None

    async def _kill_strays(self, collector: OutputCollector) -> bool:
        """Kill what the code left running; a tree that keeps growing (a fork bomb) is ended
        by restarting the kernel, which takes its whole pid namespace down at once."""
        if self._km is None or self._kernel_pid is None:
            return False
        stray = processes.strays(self._root_pid(), self._kernel_pid)
        if not stray:
            return False
        processes.kill_all(stray)
        await _wait_gone([p.pid for p in stray], timeout=1.0)
        if processes.strays(self._root_pid(), self._kernel_pid):
            await self._restart_after(
                collector, f"the code kept starting processes ({len(stray)}+ killed)"
            )
            return True
        collector.notes.append(
            f"{len(stray)} process(es) started by the code were still running and were "
            "killed: nothing may outlive the execution that started it"
        )
        return False

    # ----- data across the boundary -----------------------------------------------------
    async def load_dataset(self, file_name: str, fmt: str, variable: str = "df") -> None:
        """Load `data/<file_name>` (the read-only datasets mount) as `variable`."""
        if "/" in file_name or file_name.startswith("."):
            raise TransferError(f"dataset file name {file_name!r} must be a plain file name")
        await self._setup_step(dataset_load_code(f"data/{file_name}", fmt, variable))

    async def put_dataframe(self, frame: pd.DataFrame, variable: str) -> None:
        """Send a DataFrame from the host into the kernel as Parquet."""
        _check_identifier(variable)
        path = self._inbox_path(".parquet")
        parquet_ready(frame).to_parquet(path)
        self._check_size(path.stat().st_size, variable)
        await self._setup_step(
            f"import pandas as _af_pd\n{variable} = _af_pd.read_parquet({str(path)!r})\n"
            "del _af_pd\n"
        )

    async def put_file(self, source: str | Path, dest: str) -> str:
        """Copy a host file into the workspace as `dest` (a relative path); returns `dest`."""
        rel = Path(dest)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise TransferError(
                f"destination {dest!r} must be a relative path inside the workspace"
            )
        self._check_size(Path(source).stat().st_size, dest)
        path = self._inbox_path(Path(source).suffix)
        shutil.copyfile(source, path)
        path.chmod(0o644)
        await self._setup_step(
            "import shutil as _af_sh, os as _af_os\n"
            f"_af_os.makedirs(_af_os.path.dirname({dest!r}) or '.', exist_ok=True)\n"
            f"_af_sh.copyfile({str(path)!r}, {dest!r})\ndel _af_sh, _af_os\n"
        )
        return dest

    async def get_dataframe(self, variable: str) -> pd.DataFrame:
        """Bring a DataFrame (or Series) out of the kernel as Parquet, never pickle."""
        _check_identifier(variable)
        assert self.dirs is not None
        name = self.dirs.new_name(".parquet")
        code = (
            "import pandas as _af_pd\n"
            f"_af_v = {variable}\n"
            "if isinstance(_af_v, _af_pd.Series):\n    _af_v = _af_v.to_frame()\n"
            "if not isinstance(_af_v, _af_pd.DataFrame):\n"
            f"    raise TypeError('{variable} is a '"
            " + type(_af_v).__name__ + ', not a DataFrame')\n"
            "_af_v = _af_v.copy()\n_af_v.columns = [str(c) for c in _af_v.columns]\n"
            f"_af_v.to_parquet({str(self.dirs.outbox / name)!r})\ndel _af_v, _af_pd\n"
        )
        result = await self.execute(code)
        if not result.ok:
            raise TransferError(
                f"could not export {variable!r} from the sandbox: {_describe(result)}"
            )
        data = read_outbox_file(self.dirs.outbox, name, self.config.max_transfer_mb * 2**20)
        return _frame_from_parquet(data, variable)

    async def _setup_step(self, code: str) -> None:
        async with self._lock:
            if not self.started:
                await self.start()
            result = await self._run(code, self.config.startup_timeout, store_history=False)
        if not result.ok:
            raise TransferError(f"loading into the sandbox failed: {_describe(result)}")
        self._replay.append(code)

    def _inbox_path(self, suffix: str) -> Path:
        if self.dirs is None:
            raise SandboxError("the sandbox is not started; call start() first")
        return self.dirs.inbox / self.dirs.new_name(suffix)

    def _check_size(self, size: int, what: str) -> None:
        limit = self.config.max_transfer_mb * 2**20
        if size > limit:
            raise TransferError(
                f"{what} is {size} bytes, over the {limit}-byte transfer limit "
                "(raise SandboxConfig.max_transfer_mb)"
            )

    def _log_tail(self, lines: int = 30) -> str:
        if self.dirs is None or not self.dirs.log.exists():
            return "(no log)"
        return "\n".join(self.dirs.log.read_text(errors="replace").splitlines()[-lines:])


def parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy Parquet can store: string column names, and object columns that mix types
    (a stray "twelve" among integers) as text, with missing values kept missing."""
    import pyarrow as pa

    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    for column in [c for c in out.columns if out[c].dtype == "object"]:
        try:
            pa.array(out[column], from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            out[column] = out[column].map(lambda v: v if pd.isna(v) else str(v))
    return out


def _frame_from_parquet(data: bytes, variable: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise TransferError(f"{variable!r} came back as an unreadable Parquet file: {exc}") from exc
    return table.to_pandas()


def _ambient_config() -> Any:
    """The running IPython's traitlets config (ipython_config.py: `c.SandboxConfig.…`)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    return shell.config if shell is not None else None


def _free_uid() -> int:
    """An unprivileged uid no running process uses (sandboxes share no process limit)."""
    import random

    used = set()
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            used.add(proc.stat().st_uid)
    while True:
        uid = random.randint(200_000, 299_999)
        if uid not in used:
            return uid


async def _wait_gone(pids: list[int], timeout: float = 5.0) -> None:
    """Wait for processes to disappear, then SIGKILL whatever remains."""
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        alive = [pid for pid in alive if _running(pid)]
    for pid in alive:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _check_readable_by_others(directory: Path) -> None:
    """The kernel runs as an unprivileged user: it can only read what others may read."""
    import stat

    unreadable = [
        p
        for p in [directory, *directory.iterdir()]
        if not p.stat().st_mode & (stat.S_IROTH | (stat.S_IXOTH if p.is_dir() else 0))
    ]
    if unreadable:
        raise SandboxError(
            f"the sandbox user cannot read {unreadable[0]}: dataset files are mounted read-only "
            f"and must be readable by others (run `chmod -R o+rX {directory}`)"
        )


def _check_identifier(name: str) -> None:
    if not name.isidentifier():
        raise TransferError(f"{name!r} is not a valid Python variable name")


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


def _describe(result: ExecutionResult) -> str:
    if result.error:
        return f"{result.error.name}: {result.error.value}"
    return f"status {result.status}; " + "; ".join(result.notes)


__all__ = ["KernelSandbox", "TransferError"]
