"""`%%agent_tool` and `%agent_tools`: register and find verified tools from a notebook."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..argtypes import positive_int
from ..tools import ToolRegistry, ToolRejectedError, hits_table, tools_table
from ..widgets.tool_registry import ToolRegistry as Panel
from .base import StateMagics, help_flag, parse_line


@magics_class
class ToolMagics(StateMagics):
    def registry(self) -> ToolRegistry:
        return ToolRegistry.opened(self.store())

    @magic_arguments(name="%agent_tool")  # usage shows %%agent_tool
    @help_flag()
    @argument("--name", help="must equal the function's name")
    @argument("--tags", default="", help="comma-separated tags, e.g. growth,time-series")
    @cell_magic
    def agent_tool(self, line: str, cell: str) -> Any:
        """Verify the function in this cell (lint + its doctests in a fresh sandbox) and store
        it as a new version; on success it is also defined in this notebook. "Verified" means
        its doctests passed inside the sandbox; outside it a tool can behave differently."""
        args = parse_line(self.agent_tool, line)
        if args is None:
            return None
        if not cell.strip():
            raise UsageError("%%agent_tool needs a function with doctests in the cell body")
        tags = [t.strip() for t in args.tags.split(",") if t.strip()]
        try:
            tool = self.registry().register(cell, name=args.name, tags=tags)
        except ToolRejectedError as exc:
            print(str(exc))  # the report: findings or failing examples, expected vs got
            raise
        self.ipython().run_cell(tool.source, store_history=False, silent=True)
        print(
            f"registered {tool.name}@{tool.version} (verified: its doctests passed in the sandbox)"
        )
        return tool

    @magic_arguments()
    @help_flag()
    @argument("-k", "--top", type=positive_int, default=5, help="how many tools to show (5)")
    @argument("query", nargs="*", help="what the tool should do; none: the registry panel")
    @line_magic
    def agent_tools(self, line: str) -> Any:
        """The registry panel, or the tools most relevant to QUERY."""
        args = parse_line(self.agent_tools, line)
        if args is None:
            return None
        query = " ".join(args.query).strip()
        registry = self.registry()
        if query:
            hits = registry.retrieve(query, k=args.top)
            print(hits_table(hits))
            return hits
        print(tools_table(registry.list()))  # also readable where widgets do not render
        return Panel(self.store())
