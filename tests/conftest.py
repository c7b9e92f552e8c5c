"""Shared fixtures: where ../shared is, and sandboxes that must be fully isolated in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def shared_dir() -> Path:
    """`../shared` beside the repository, or AGENTFORGE_SHARED_DIR."""
    override = os.environ.get("AGENTFORGE_SHARED_DIR")
    return Path(override) if override else REPO.parent / "shared"


def require(condition: bool, why: str) -> None:
    """Skip on a developer machine, fail in CI: a silent skip there hides a broken install."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required component missing under CI=true: {why}")
    pytest.skip(why)


@pytest.fixture
def shared() -> Path:
    path = shared_dir()
    require(path.is_dir(), f"shared directory not found at {path} (set AGENTFORGE_SHARED_DIR)")
    return path


@pytest.fixture
def full_isolation() -> None:
    from agentforge_jupyter.sandbox.isolation import detect_isolation

    report = detect_isolation()
    require(report.level == "full", f"full sandbox isolation unavailable: {report.reason}")


@pytest.fixture(autouse=True)
def _isolated_state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """No test touches the repository's own state/ by accident."""
    if "AGENTFORGE_STATE_DIR" not in os.environ:
        monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    if "AGENTFORGE_CONFIG_DIR" not in os.environ:
        # The user's own verdicts (trust.json) must not leak between tests or reach ~/.config.
        monkeypatch.setenv("AGENTFORGE_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


# ----- magic tests ------------------------------------------------------------------------


@pytest.fixture
def magic_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real IPython shell with `%load_ext agentforge_jupyter`, on a fresh state directory.

    Shared by every magic test. Afterwards the agent session (and its sandbox) is closed and the
    shell singleton cleared, so the next test starts from nothing."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("MPLBACKEND", "Agg")  # inserted cells may plot; no display here
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "agentforge_jupyter")
    yield shell
    magics = shell.magics_manager.registry.get("AgentMagics")
    if magics is not None:
        magics.close_session()
    InteractiveShell.clear_instance()


@pytest.fixture
def store(tmp_path: Path):
    """A fresh state directory (a test module may define its own `store` instead)."""
    from agentforge_jupyter.state import StateDir

    return StateDir(tmp_path / "state")


@pytest.fixture
async def sandbox(store):
    """A started plain (unisolated) sandbox kernel for agent tests, shut down afterwards."""
    from agentforge_jupyter.sandbox import KernelSandbox

    sb = KernelSandbox(isolation="none", datasets_dir=str(store.data_dir), interrupt_grace=1.0)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.shutdown()
