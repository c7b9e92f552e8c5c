"""`%%agent_tool` and `%agent_tools`: register and find verified tools from a notebook."""

from __future__ import annotations

from typing import Any

from IPython.core.magic import cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .magics import StateMagics
from .tools import ToolRegistry, ToolRejectedError, hits_table, tools_table


@magics_class
class ToolMagics(StateMagics):
    def registry(self) -> ToolRegistry:
        return ToolRegistry(self.store())

    @magic_arguments()
    @argument("--name", help="must equal the function's name")
    @argument("--tags", default="", help="comma-separated tags, e.g. growth,time-series")
    @cell_magic
    def agent_tool(self, line: str, cell: str) -> Any:
        """Verify the function in this cell (lint + its doctests in a fresh sandbox) and store
        it as a new version; on success it is also defined in this notebook."""
        args = parse_argstring(self.agent_tool, line)
        tags = [t.strip() for t in args.tags.split(",") if t.strip()]
        try:
            tool = self.registry().register(cell, name=args.name, tags=tags)
        except ToolRejectedError as exc:
            print(str(exc))  # the report: findings or failing examples, expected vs got
            raise
        self.shell.run_cell(tool.source, store_history=False, silent=True)
        print(f"registered {tool.name}@{tool.version} (verified)")
        return tool

    @line_magic
    def agent_tools(self, line: str) -> Any:
        """%agent_tools [QUERY]: the registry panel, or the tools most relevant to QUERY."""
        query = line.strip()
        registry = self.registry()
        if query:
            hits = registry.retrieve(query, k=5)
            print(hits_table(hits))
            return hits
        from .widgets.tool_registry import ToolRegistry as Panel

        print(tools_table(registry.list()))  # also readable where widgets do not render
        return Panel(self.store())
