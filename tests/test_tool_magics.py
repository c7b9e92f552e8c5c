"""`%%agent_tool` and `%agent_tools` through a real InteractiveShell and sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from agentforge_jupyter.tools import ToolRegistry, ToolRejectedError

GOOD = '''
def double_total(values):
    """Twice the sum of the values.

    >>> double_total([1, 2, 3])
    12
    """
    return 2 * sum(values)
'''

WRONG_EXAMPLE = GOOD.replace("12", "13")


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AGENTFORGE_STATE_DIR", str(tmp_path / "state"))
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "agentforge_jupyter")
    yield sh
    InteractiveShell.clear_instance()


def test_agent_tool_registers_verifies_and_defines(shell, capsys) -> None:
    tool = shell.run_cell_magic("agent_tool", "--tags maths,demo", GOOD)
    assert (tool.name, tool.version, tool.status) == ("double_total", 1, "verified")
    assert shell.user_ns["double_total"]([5]) == 10
    again = shell.run_cell_magic(
        "agent_tool", "", GOOD.replace("2 * sum(values)", "sum(values) * 2")
    )
    assert again.version == 2
    assert "registered double_total@2" in capsys.readouterr().out


def test_agent_tool_refuses_a_failing_example_and_stores_nothing(shell, capsys) -> None:
    with pytest.raises(ToolRejectedError):
        shell.run_cell_magic("agent_tool", "", WRONG_EXAMPLE)
    assert "13" in capsys.readouterr().out  # the report shows expected vs got
    assert ToolRegistry().list() == []


def test_agent_tools_lists_and_searches(shell) -> None:
    shell.run_cell_magic("agent_tool", "--tags maths", GOOD)
    panel = shell.run_line_magic("agent_tools", "")
    assert [value for _, value in panel.listing.options] == ["double_total"]
    panel.stop()
    hits = shell.run_line_magic("agent_tools", "sum of values doubled")
    assert hits and hits[0].name == "double_total"
