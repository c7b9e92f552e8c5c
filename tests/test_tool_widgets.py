"""The ToolRegistry panel, driven in-process like a user would (values and clicks)."""

from __future__ import annotations

import copy
import html
import json
import shutil
import time
from pathlib import Path

import pytest

from agentforge_jupyter.state import StateDir
from agentforge_jupyter.tools import ToolRegistry as Registry
from agentforge_jupyter.widgets.tool_registry import ToolRegistry

REPO_TOOLS = Path(__file__).resolve().parents[1] / "state" / "tools.json"


@pytest.fixture
def panel(tmp_path: Path):
    store = StateDir(tmp_path / "state")
    store.root.mkdir(parents=True)
    shutil.copy(REPO_TOOLS, store.tools_json)
    view = ToolRegistry(store, poll_s=0)
    yield view
    view.stop()


def names(panel: ToolRegistry) -> list[str]:
    return [value for _, value in panel.listing.options]


def test_lists_every_tool_with_version_and_status(panel: ToolRegistry) -> None:
    assert "top_n" in names(panel)
    assert all("@1 [verified]" in label for label, _ in panel.listing.options)


def test_search_and_detail(panel: ToolRegistry) -> None:
    panel.search.value = "growth month over month"
    assert names(panel)[0] == "period_growth"
    assert "period_growth(" in panel.detail.value and "&gt;&gt;&gt;" in panel.detail.value


def test_deprecate_needs_confirmation(panel: ToolRegistry) -> None:
    panel.listing.value = "top_n"
    panel.deprecate_button.click()
    assert panel.confirm_box.layout.display == "flex"
    assert Registry(panel.registry.store).get("top_n").status == "verified"
    panel.cancel_button.click()
    assert Registry(panel.registry.store).get("top_n").status == "verified"
    panel.deprecate_button.click()
    panel.confirm_button.click()
    assert Registry(panel.registry.store).get("top_n").status == "deprecated"


def test_delete_with_confirmation(panel: ToolRegistry) -> None:
    panel.listing.value = "iqr_outliers"
    panel.delete_button.click()
    panel.confirm_button.click()
    assert "iqr_outliers" not in names(panel)
    assert "iqr_outliers" not in Registry(panel.registry.store).names()


def test_refreshes_after_an_external_change(panel: ToolRegistry) -> None:
    assert not panel.changed()
    Registry(panel.registry.store).remove("top_n")  # another process, say
    assert panel.changed()
    assert "top_n" not in names(panel)


HOSTILE_TOOL = '''
def shout(text):
    """Upper-case text. <script>alert(1)</script> <img src=x onerror=alert(1)>

    >>> shout("a")
    'A'
    """
    return text.upper()
'''


def wait_until(condition, timeout: float = 30.0) -> bool:
    """Poll `condition` until true or `timeout` seconds pass (a deadline, not a speed test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def hostile_store(tmp_path: Path) -> StateDir:
    """A registry holding a tool whose docstring carries markup (stored as a registered tool
    would be; the panel must escape it whatever verification said)."""
    store = StateDir(tmp_path / "hostile")
    store.root.mkdir(parents=True)
    shutil.copy(REPO_TOOLS, store.tools_json)
    data = json.loads(store.tools_json.read_text())
    entry = copy.deepcopy(data["items"]["top_n"])
    entry["name"] = "shout"
    for version in entry["versions"]:
        version["name"] = "shout"
        version["source"] = HOSTILE_TOOL.strip() + "\n"
        version["docstring"] = HOSTILE_TOOL.split('"""')[1]
    data["items"]["shout"] = entry
    store.tools_json.write_text(json.dumps(data))
    return store


def test_docstring_markup_is_escaped_and_verified_is_explained(tmp_path: Path) -> None:
    panel = ToolRegistry(hostile_store(tmp_path), poll_s=0)
    panel.listing.value = "shout"
    detail = panel.detail.value
    assert "<script>" not in detail and "<img src=x" not in detail
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "doctests passed inside the sandbox" in detail
    assert "behave differently" in detail


def test_insert_shows_the_source_first_then_inserts_it_gated(panel: ToolRegistry) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        panel.listing.value = "top_n"
        source = Registry(panel.registry.store).get("top_n").source
        panel.insert_button.click()
        assert panel.confirm_box.layout.display == "flex"
        assert html.escape(source.splitlines()[0], quote=False) in panel.message.value
        assert getattr(shell, "rl_next_input", None) is None  # nothing inserted yet
        panel.confirm_button.click()
        assert shell.rl_next_input == source
        assert "inserted" in panel.message.value
    finally:
        InteractiveShell.clear_instance()


def test_refresh_thread_follows_the_file_and_stops(tmp_path: Path) -> None:
    store = StateDir(tmp_path / "watched")
    store.root.mkdir(parents=True)
    shutil.copy(REPO_TOOLS, store.tools_json)
    panel = ToolRegistry(store, poll_s=0.02)
    try:
        assert panel.thread is not None and panel.thread.is_alive()
        Registry(store).remove("top_n")  # another process, say
        assert wait_until(lambda: "top_n" not in names(panel))
        store.tools_json.write_text("{not json")
        assert wait_until(lambda: "refresh failed" in panel.message.value)
        assert "not valid JSON" in panel.message.value and panel.thread.is_alive()
    finally:
        panel.stop()
    assert not panel.thread.is_alive()
