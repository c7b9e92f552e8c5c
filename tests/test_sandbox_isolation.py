"""Isolation detection, the bubblewrap command, the exec filter, reduced mode and the pool."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from agentforge_jupyter.errors import IsolationUnavailableError
from agentforge_jupyter.sandbox import KernelSandbox, SandboxPool
from agentforge_jupyter.sandbox import isolation as iso
from agentforge_jupyter.sandbox.isolation import BwrapCommand, ReducedIsolationWarning
from agentforge_jupyter.sandbox.seccomp import SeccompUnavailable, build_program


@pytest.fixture
def no_bubblewrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    iso.detect_isolation.cache_clear()
    yield
    iso.detect_isolation.cache_clear()


def test_bwrap_command_isolates_and_never_binds_the_root() -> None:
    command = BwrapCommand(
        bwrap="/usr/bin/bwrap",
        setpriv="/usr/bin/setpriv",
        as_root=True,
        uid=212345,
        env={"HOME": "/tmp"},
        ro_paths=(Path("/opt/py"),),
        rw_binds=((Path("/host/ws"), "/workspace"),),
        chdir="/workspace",
    )
    argv = command.argv(["python", "-c", "pass"])
    for flag in (
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
        "--clearenv",
        "--new-session",
    ):
        assert flag in argv
    pairs = list(zip(argv, argv[1:], argv[2:], strict=False))
    assert ("--ro-bind", "/", "/") not in pairs
    assert ("--bind", "/host/ws", "/workspace") in pairs
    tail = argv[argv.index("--") + 1 :]
    assert tail[0] == "/usr/bin/setpriv" and "--reuid=212345" in tail
    assert "--bounding-set=-all" in tail and tail[-3:] == ["python", "-c", "pass"]


def test_without_root_a_user_namespace_drops_capabilities() -> None:
    argv = BwrapCommand(bwrap="bwrap", setpriv=None, as_root=False, uid=1000).argv(["true"])
    assert "--unshare-user" in argv and "--cap-drop" in argv
    assert "setpriv" not in " ".join(argv)


def test_seccomp_program_shape() -> None:
    program = build_program("x86_64")
    assert len(program) % 8 == 0 and len(program) < 256 * 8
    with pytest.raises(SeccompUnavailable):
        build_program("sparc")


def test_seccomp_filter_blocks_exec_in_a_child_process() -> None:
    code = (
        "from agentforge_jupyter.sandbox.seccomp import deny_exec\n"
        "import os, subprocess\n"
        "deny_exec()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    try:\n        os.execv('/bin/true', ['true'])\n"
        "    except PermissionError:\n        os._exit(7)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.WEXITSTATUS(status))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "7", out.stderr


def test_missing_bubblewrap_is_reported_with_what_to_install(no_bubblewrap) -> None:
    report = iso.detect_isolation()
    assert report.level == "reduced"
    assert "apt-get install bubblewrap" in report.reason


def test_full_isolation_required_but_unavailable_refuses(no_bubblewrap) -> None:
    sandbox = KernelSandbox(isolation="full")
    with pytest.raises(IsolationUnavailableError, match="bubblewrap"):
        asyncio.run(sandbox.start())


def test_reduced_isolation_warns_and_still_runs_without_secrets(no_bubblewrap, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-reduced-123")

    async def scenario() -> tuple[str, str]:
        async with KernelSandbox() as sandbox:
            result = await sandbox.execute("import os\nprint(sorted(os.environ))")
            return sandbox.isolation.level, result.stdout

    with pytest.warns(ReducedIsolationWarning, match="REDUCED"):
        level, stdout = asyncio.run(scenario())
    assert level == "reduced"
    assert "OPENAI_API_KEY" not in stdout and "PATH" in stdout


@pytest.mark.usefixtures("full_isolation")
def test_warm_pool_hands_out_started_sandboxes_and_refills() -> None:
    async def scenario() -> list[str]:
        async with SandboxPool(size=1, isolation="full") as pool:
            first = await pool.acquire()
            assert first.started
            assert len(pool._boots) == 1  # the replacement is already booting
            second = await pool.acquire()
            outputs = []
            for sandbox in (first, second):
                result = await sandbox.execute("import pandas\nprint(pandas.__name__)")
                outputs.append(result.stdout.strip())
                await sandbox.shutdown()
            assert first.dirs is None  # shut down: private directory removed
            return outputs

    assert asyncio.run(scenario()) == ["pandas", "pandas"]


def test_settings_come_from_the_config_passed_in_not_the_running_ipython() -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from agentforge_jupyter.sandbox.config import SandboxConfig

    config = Config()
    config.SandboxConfig.memory_mb = 1234
    InteractiveShell.clear_instance()
    InteractiveShell.instance(config=config)
    try:
        assert KernelSandbox().config.memory_mb == SandboxConfig().memory_mb  # not read
        passed = SandboxConfig(config=config)
        assert KernelSandbox(passed).config.memory_mb == 1234
        assert KernelSandbox(passed, memory_mb=999).config.memory_mb == 999  # explicit wins
        assert passed.memory_mb == 1234  # overrides stay private to the sandbox
    finally:
        InteractiveShell.clear_instance()


def test_reduced_isolation_works_without_proc_and_without_seccomp(no_bubblewrap, monkeypatch):
    """The documented fallback (macOS, containers): no bubblewrap, no /proc for the host's
    process table, no seccomp for this architecture. It must start, run, clean up, and say so."""
    import platform

    import psutil

    monkeypatch.setattr(psutil, "PROCFS_PATH", "/nonexistent-proc")  # the process table
    monkeypatch.setattr(platform, "machine", lambda: "sparc64")  # no syscall table: no seccomp

    async def scenario() -> tuple[str, str, str, bool]:
        sandbox = KernelSandbox(default_timeout=20.0)
        async with sandbox:
            hello = await sandbox.execute("print('hello')")
            forked = await sandbox.execute(
                "import os\nif os.fork() == 0:\n    os._exit(0)\nos.wait()\nprint('forked')"
            )
            status = await sandbox.execute(
                "print([l for l in open('/proc/self/status') if l.startswith('Seccomp:')])"
            )
            private = sandbox.dirs.private
        return (
            hello.stdout + forked.stdout,
            status.stdout,
            sandbox.isolation.seccomp_problem,
            (private.exists()),
        )

    with pytest.warns(ReducedIsolationWarning) as warned:
        out, seccomp_line, problem, left = asyncio.run(scenario())
    assert out == "hello\nforked\n"
    assert "sparc64" in problem
    assert any("sparc64" in str(w.message) for w in warned)
    assert "Seccomp:\\t0" in seccomp_line  # the launcher was told not to load it
    assert not left


def test_concurrent_shutdowns_stop_the_kernel_once_without_error() -> None:
    """A closing session can race a run's own teardown; both shutdowns must succeed."""

    async def scenario() -> tuple[bool, bool]:
        sandbox = KernelSandbox()
        await sandbox.start()
        kernel_pid = sandbox._root_pid()
        await asyncio.gather(sandbox.shutdown(), sandbox.shutdown())
        return await sandbox.is_alive(), psutil.pid_exists(kernel_pid)

    alive, pid_left = asyncio.run(scenario())
    assert not alive and not pid_left


def test_a_stray_scan_still_running_at_a_restart_is_not_handed_to_the_new_kernel() -> None:
    """The scan for processes left by the code runs in a thread; a kernel replaced meanwhile
    (an oversized or malformed message) must not pass that scan to the new kernel's set-up."""

    async def scenario() -> str:
        import time

        async with KernelSandbox() as sandbox:
            await sandbox.execute("1")

            def slow_scan() -> list[object]:
                time.sleep(0.5)  # still scanning while the kernel is being replaced
                return sandbox._strays()

            sandbox._scan = asyncio.ensure_future(asyncio.to_thread(slow_scan))
            await sandbox.restart()
            return (await sandbox.execute("print('fresh')")).stdout

    assert asyncio.run(scenario()) == "fresh\n"
