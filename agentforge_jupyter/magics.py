"""IPython magics: `%agent_datasets`, `%%agent_lint` (and the agent magics as they land).

Front end only: every magic calls the services and renders what they return.
Configure with traitlets, e.g. `c.StateMagics.state_dir = "/data/agentforge"` (all magics).
"""

from __future__ import annotations

import os
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import HTML, display
from traitlets import Unicode

from .datasets import DatasetRegistry, profile_text
from .lint import Finding, lint
from .render import esc, html_table
from .state import StateDir


class StateMagics(Magics):
    """What every AgentForge magics class shares: the state directory it works on.
    `c.StateMagics.state_dir = "..."` sets it for all of them."""

    state_dir = Unicode(
        "",
        help="State directory for datasets, tools, brains and runs. Empty: AGENTFORGE_STATE_DIR, "
        "else ./state.",
    ).tag(config=True)

    def store(self) -> StateDir:
        return StateDir(self.state_dir or None)


@magics_class
class AgentForgeMagics(StateMagics):
    def registry(self) -> DatasetRegistry:
        return DatasetRegistry.opened(self.store())

    @line_magic
    def agent_datasets(self, line: str) -> Any:
        """Manage datasets.

        %agent_datasets                      list datasets
        %agent_datasets add PATH [--name N]  copy a file into the state directory
        %agent_datasets preview NAME [-n N]  first rows (returns a DataFrame)
        %agent_datasets profile NAME         the compact profile a brain sees
        %agent_datasets remove NAME          remove a dataset
        """
        args = shlex.split(line)
        action = args[0] if args else "list"
        handler = _DATASET_ACTIONS.get(action)
        if handler is None:
            raise UsageError(f"unknown action {action!r}; try: {', '.join(_DATASET_ACTIONS)}")
        return handler(self.registry(), args[1:])

    @cell_magic
    def agent_lint(self, line: str, cell: str) -> list[Finding]:
        """Lint the cell with the sandbox policy and show the findings (the cell is not run)."""
        findings = lint(cell)
        if not findings:
            display(HTML("<b>agentforge lint:</b> no findings"))
        else:
            rows = [[f.code, f.severity, f"{f.line}:{f.col}", f.message, f.hint] for f in findings]
            display(HTML(html_table(["rule", "severity", "at", "message", "hint"], rows)))
        return findings


def _list(reg: DatasetRegistry, args: list[str]) -> list[Any]:
    infos = reg.list()
    rows = [[i.name, i.format, i.rows, len(i.columns), i.size] for i in infos]
    display(HTML(html_table(["name", "format", "rows", "columns", "bytes"], rows, "datasets")))
    return infos


def _add(reg: DatasetRegistry, args: list[str]) -> Any:
    if not args:
        raise UsageError("usage: %agent_datasets add PATH [--name NAME]")
    name = args[args.index("--name") + 1] if "--name" in args else None
    info = reg.add(os.path.expanduser(args[0]), name=name)
    display(HTML(f"added <b>{esc(info.name)}</b>: {info.rows} rows x {len(info.columns)} columns"))
    return info


def _preview(reg: DatasetRegistry, args: list[str]) -> Any:
    if not args:
        raise UsageError("usage: %agent_datasets preview NAME [-n N]")
    n = int(args[args.index("-n") + 1]) if "-n" in args else 10
    return reg.preview(args[0], n=n)


def _profile(reg: DatasetRegistry, args: list[str]) -> Any:
    if not args:
        raise UsageError("usage: %agent_datasets profile NAME")
    profile = reg.profile(args[0])
    print(profile_text(profile))
    return profile


def _remove(reg: DatasetRegistry, args: list[str]) -> Any:
    if not args:
        raise UsageError("usage: %agent_datasets remove NAME")
    info = reg.remove(args[0])
    display(HTML(f"removed <b>{esc(info.name)}</b>"))
    return info


_DATASET_ACTIONS = {
    "list": _list,
    "add": _add,
    "preview": _preview,
    "profile": _profile,
    "remove": _remove,
}


def register_magics(ipython: Any) -> None:
    from .agent_magics import AgentMagics
    from .tool_magics import ToolMagics

    ipython.register_magics(AgentForgeMagics(shell=ipython))
    ipython.register_magics(AgentMagics(shell=ipython))
    ipython.register_magics(ToolMagics(shell=ipython))


def unregister_magics(ipython: Any) -> None:
    # IPython has no public unregister; the magics simply stay until the kernel restarts.
    pass
