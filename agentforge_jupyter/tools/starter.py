"""Starter tools: shipped inside the package (``agentforge_jupyter/starter_tools``).

On first use of a state directory (no tools.json yet) they are written into it
(:meth:`ToolRegistry.opened`), as the sample dataset is. They are package code the user
installed, verified by the package's own tests, so they count as verified on this machine
without a sandbox run (``local.shipped_fingerprints``); a changed copy does not.
:func:`install_starter_tools` registers them through the full verification path instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._version import __version__
from ..starter_tools import starter_sources
from .local import tool_from_candidate
from .model import Tool, VerificationReport
from .parse import parse_tool

if TYPE_CHECKING:
    from .registry import ToolRegistry

__all__ = ["ainstall_starter_tools", "install_shipped_tools", "install_starter_tools"]


def install_shipped_tools(registry: ToolRegistry) -> list[Tool]:
    """Write the shipped starter tools into a registry that has no tools.json yet (one write;
    nothing happens if the document exists, so removing a starter tool sticks)."""
    report = VerificationReport(True, "passed", problems=[])
    report.problems = [f"shipped with agentforge_jupyter {__version__} (verified by its tests)"]
    tools = [
        tool_from_candidate(parse_tool(source), 1, report, {"source": "user"})
        for source in starter_sources().values()
    ]
    with registry.document.update() as data:
        if data["items"] or registry.path.exists():
            return []
        for tool in tools:
            data["items"][tool.name] = {
                "name": tool.name,
                "next_version": 2,
                "versions": [tool.to_dict()],
            }
    return tools


async def ainstall_starter_tools(registry: ToolRegistry) -> list[Tool]:
    """Register every starter tool (parse, lint, doctests in a sandbox). Idempotent: a tool
    whose source equals its latest verified version is not stored again."""
    tools = []
    for source in starter_sources().values():
        tools.append(await registry.aregister(source, provenance={"source": "user"}))
    return tools


def install_starter_tools(registry: ToolRegistry) -> list[Tool]:
    """Blocking :func:`ainstall_starter_tools`; raises ToolRejectedError if one fails."""
    from .._loop import run_sync

    return run_sync(ainstall_starter_tools(registry))
