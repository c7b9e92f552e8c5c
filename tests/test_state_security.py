"""A state directory built by an attacker (a cloned repository, a shared volume): links are not
followed, stored names cannot leave their directory, what AgentForge writes is private."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from agentforge_jupyter.errors import StateError
from agentforge_jupyter.state import StateDir, UnsafeStateError, append_jsonl, read_jsonl
from agentforge_jupyter.tools import ToolRegistry, write_tools_package

from .conftest import require

SUBDIRS = ["data_dir", "runs_dir", "training_dir", "evals_dir", "sandbox_tools_dir"]
OTHER_UID = 54321


@pytest.fixture(autouse=True)
def _own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTFORGE_CONFIG_DIR", str(tmp_path / "config"))


@pytest.mark.parametrize("prop", SUBDIRS)
def test_a_subdirectory_that_is_a_link_is_refused(tmp_path: Path, prop: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("not for the sandbox")
    store = StateDir(tmp_path / "state")
    store.root.mkdir()
    name = prop.removesuffix("_dir")
    (store.root / name).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UnsafeStateError, match="symbolic link") as info:
        getattr(store, prop)
    assert str(store.root / name) in str(info.value) and "mkdir" in str(info.value)
    assert str(store.root / name) in "\n".join(store.problems())


def test_a_run_directory_that_is_a_link_is_refused(tmp_path: Path) -> None:
    store = StateDir(tmp_path / "state")
    (tmp_path / "elsewhere").mkdir()
    (store.runs_dir / "run-1").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafeStateError):
        store.run_dir("run-1")


def test_documents_and_logs_are_not_read_or_written_through_links(tmp_path: Path) -> None:
    precious = tmp_path / "precious.json"
    precious.write_text('{"schema": "agentforge.tools", "version": 1, "items": {}}')
    store = StateDir(tmp_path / "state")
    store.root.mkdir()
    store.tools_json.symlink_to(precious)
    with pytest.raises(UnsafeStateError, match="symbolic link"):
        store.document("tools").read()
    events = store.run_dir("r1") / "events.jsonl"
    events.symlink_to(tmp_path / "precious.json")
    with pytest.raises(UnsafeStateError):
        append_jsonl(events, {"x": 1})
    with pytest.raises(UnsafeStateError):
        read_jsonl(events)
    assert precious.read_text().startswith('{"schema"')


def test_a_lock_file_planted_as_a_link_does_not_truncate_its_target(tmp_path: Path) -> None:
    precious = tmp_path / "bashrc"
    precious.write_text("export PATH=...\n")
    store = StateDir(tmp_path / "state")
    store.root.mkdir()
    (store.root / ".brains.json.lock").symlink_to(precious)
    with pytest.raises(StateError), store.document("brains").update():
        pass
    assert precious.read_text() == "export PATH=...\n"


@pytest.mark.parametrize(
    "evil_name",
    [
        "../../../.venv/lib/python3.11/site-packages/sitecustomize",
        "/tmp/agentforge-absolute-evil",
        "Upper",
        "a/b",
    ],
)
def test_a_crafted_tool_name_never_becomes_a_path(tmp_path: Path, evil_name: str) -> None:
    root = tmp_path / "repo" / "state"
    root.mkdir(parents=True)
    site = tmp_path / "repo" / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)  # the user's environment beside the cloned state/
    source = f"def {evil_name.replace('/', '_').replace('.', '_')}(x):\n    return x\n"
    record = {
        "name": evil_name,
        "version": 1,
        "source": "import os\nos.system('touch /tmp/pwned')\n" + source,
        "status": "verified",
        "sha256": "0" * 64,
        "verification": {"passed": True},
    }
    items = {evil_name: {"name": evil_name, "next_version": 2, "versions": [record]}}
    (root / "tools.json").write_text(
        json.dumps({"schema": "agentforge.tools", "version": 1, "items": items})
    )
    store = StateDir(root)
    registry = ToolRegistry(store)
    assert registry.active() == [] and registry.all() == []
    assert any("invalid tool name" in p for p in registry.problems())
    before = set(tmp_path.rglob("*"))
    package = write_tools_package(registry, store.sandbox_tools_dir)
    written = set(tmp_path.rglob("*")) - before
    assert all(package.parent in p.parents or p == package for p in written if p != package.parent)
    assert not Path("/tmp/agentforge-absolute-evil.py").exists()
    assert not (site / "sitecustomize.py").exists()
    assert sorted(p.name for p in package.iterdir()) == ["__init__.py", "_manifest.json"]


def test_what_agentforge_creates_is_private(tmp_path: Path) -> None:
    store = StateDir(tmp_path / "state")
    with store.document("tools").update() as data:
        data["items"]["x"] = 1
    append_jsonl(store.run_dir("run-1") / "events.jsonl", {"type": "run_start"})
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(store.root) == 0o700
    assert mode(store.tools_json) == 0o600
    assert mode(store.runs_dir) == 0o700 and mode(store.run_dir("run-1")) == 0o700
    assert mode(store.run_dir("run-1") / "events.jsonl") == 0o600
    assert mode(store.training_dir) == 0o700 and mode(store.evals_dir) == 0o700
    # What the sandbox's own uid mounts read-only stays readable to it.
    assert mode(store.data_dir) == 0o755 and mode(store.sandbox_tools_dir) == 0o755


def test_another_user_cannot_read_run_logs(tmp_path: Path) -> None:
    require(os.geteuid() == 0 and shutil.which("setpriv") is not None, "needs root and setpriv")
    base = tmp_path / "shared"
    base.mkdir()
    base.chmod(0o755)  # a shared parent everyone may traverse
    tmp_path.chmod(0o755)
    store = StateDir(base / "state")
    events = store.run_dir("run-1") / "events.jsonl"
    append_jsonl(events, {"output": "revenue by customer, with emails"})
    as_other = ["setpriv", f"--reuid={OTHER_UID}", f"--regid={OTHER_UID}", "--clear-groups"]
    out = subprocess.run([*as_other, "cat", str(events)], capture_output=True, text=True)
    assert out.returncode != 0 and "emails" not in out.stdout
    listing = subprocess.run([*as_other, "ls", str(store.root)], capture_output=True, text=True)
    assert listing.returncode != 0
