"""Starter tools: registered through the same verification path as any other tool."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..starter_tools import starter_sources
from .model import Tool

if TYPE_CHECKING:
    from .registry import ToolRegistry

__all__ = ["install_starter_tools"]


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
