"""The ToolRegistry panel, driven in-process like a user would (values and clicks)."""

from __future__ import annotations

import shutil
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
