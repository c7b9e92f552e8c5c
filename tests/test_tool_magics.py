"""`%%agent_tool` and `%agent_tools` through a real InteractiveShell and sandbox."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

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


def test_agent_tool_registers_verifies_and_defines(magic_shell, capsys) -> None:
    tool = magic_shell.run_cell_magic("agent_tool", "--tags maths,demo", GOOD)
    assert (tool.name, tool.version, tool.status) == ("double_total", 1, "verified")
    assert magic_shell.user_ns["double_total"]([5]) == 10
    again = magic_shell.run_cell_magic(
        "agent_tool", "", GOOD.replace("2 * sum(values)", "sum(values) * 2")
    )
    assert again.version == 2
    assert "registered double_total@2" in capsys.readouterr().out


def test_agent_tool_refuses_a_failing_example_and_stores_nothing(magic_shell, capsys) -> None:
    with pytest.raises(ToolRejectedError):
        magic_shell.run_cell_magic("agent_tool", "", WRONG_EXAMPLE)
    assert "13" in capsys.readouterr().out  # the report shows expected vs got
    assert "double_total" not in ToolRegistry().names()


def test_agent_tools_lists_and_searches(magic_shell) -> None:
    magic_shell.run_cell_magic("agent_tool", "--tags maths", GOOD)
    panel = magic_shell.run_line_magic("agent_tools", "")
    assert "double_total" in [value for _, value in panel.listing.options]
    panel.stop()
    hits = magic_shell.run_line_magic("agent_tools", "sum of values doubled")
    assert hits and hits[0].name == "double_total"


def test_agent_tool_usage_errors_store_nothing(magic_shell) -> None:
    with pytest.raises(UsageError, match="--tags: expected one argument"):
        magic_shell.run_cell_magic("agent_tool", "--tags", GOOD)
    with pytest.raises(UsageError, match="unrecognized arguments: --force"):
        magic_shell.run_cell_magic("agent_tool", "--force", GOOD)
    with pytest.raises(UsageError, match="needs a function"):
        magic_shell.run_cell("%%agent_tool --name x\n\n").raise_error()
    assert "double_total" not in ToolRegistry().names()


def test_agent_tools_options(magic_shell) -> None:
    magic_shell.run_cell_magic("agent_tool", "--tags maths", GOOD)
    assert len(magic_shell.run_line_magic("agent_tools", "-k 1 sum of values")) == 1
    with pytest.raises(UsageError, match="-k/--top: must be 1 or more"):
        magic_shell.run_line_magic("agent_tools", "-k 0 sum")
