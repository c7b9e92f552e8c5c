"""`%agent_datasets` and `%%agent_lint`: the dataset registry and the linter from a notebook.

Front end only: every magic calls the services and renders what they return.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import HTML, display

from ..argtypes import positive_int
from ..datasets import DatasetRegistry, profile_text
from ..errors import DatasetError
from ..lint import Finding, lint
from ..render import html_table, message_html
from .base import StateMagics, help_flag, parse_line, subcommands

_DATASET_COMMANDS: dict[str, tuple[str, list[argument]]] = {
    "list": ("list the registered datasets (the default)", []),
    "add": (
        "copy a file (csv, tsv, json, jsonl, parquet, xlsx) into the state directory",
        [
            argument("path", help="the file to add"),
            argument("--name", help="the dataset's name (default: from the file name)"),
            argument("--sep", help="CSV/TSV field separator, e.g. ';' (default: sniffed)"),
            argument("--decimal", help="decimal mark, '.' or ',' (default: sniffed)"),
            argument("--encoding", help="text encoding, e.g. latin-1 (default: UTF-8)"),
            argument("--sheet", help="Excel sheet name or 0-based number (default: the first)"),
        ],
    ),
    "preview": (
        "the first rows of a dataset (returns a DataFrame)",
        [
            argument("name", help="a registered dataset"),
            argument("-n", "--rows", type=positive_int, default=10, help="rows (default 10)"),
        ],
    ),
    "profile": (
        "the compact profile a brain sees",
        [argument("name", help="a registered dataset")],
    ),
    "remove": ("remove a dataset", [argument("name", help="a registered dataset")]),
}


@magics_class
class DatasetMagics(StateMagics):
    def registry(self) -> DatasetRegistry:
        return DatasetRegistry.opened(self.store())

    @magic_arguments()
    @help_flag()
    @subcommands("action", _DATASET_COMMANDS)
    @line_magic
    def agent_datasets(self, line: str) -> Any:
        """Manage the datasets a brain can analyse (ACTION defaults to list).

        %agent_datasets add PATH [--name N] | preview NAME [-n N] | profile NAME | remove NAME
        """
        args = parse_line(self.agent_datasets, line)
        if args is None:
            return None
        handler = _DATASET_ACTIONS[args.action or "list"]
        try:
            return handler(self.registry(), args)
        except DatasetError as exc:
            # What the user asked for does not exist or cannot be read: say so, no traceback.
            raise UsageError(f"%agent_datasets {args.action or 'list'}: {exc}") from exc

    @magic_arguments(name="%agent_lint")  # usage shows %%agent_lint
    @help_flag()
    @cell_magic
    def agent_lint(self, line: str, cell: str) -> list[Finding] | None:
        """Lint the cell with the sandbox policy and show the findings (the cell is not run).
        Returns the findings; findings are a report, not a failure of the magic."""
        if parse_line(self.agent_lint, line) is None:
            return None
        findings = lint(cell)
        if not findings:
            display(HTML(message_html("agentforge lint:", text="no findings")))
        else:
            rows = [[f.code, f.severity, f"{f.line}:{f.col}", f.message, f.hint] for f in findings]
            display(HTML(html_table(["rule", "severity", "at", "message", "hint"], rows)))
        return findings


def _list(reg: DatasetRegistry, args: argparse.Namespace) -> list[Any]:
    infos = reg.list()
    rows = [[i.name, i.format, i.rows, len(i.columns), i.size] for i in infos]
    display(HTML(html_table(["name", "format", "rows", "columns", "bytes"], rows, "datasets")))
    for problem in reg.problems():  # entries left out of the list, and why
        display(HTML(message_html("not usable:", text=problem)))
    return infos


def _add(reg: DatasetRegistry, args: argparse.Namespace) -> Any:
    options = {k: getattr(args, k) for k in ("sep", "decimal", "encoding", "sheet")}
    info = reg.add(os.path.expanduser(args.path), name=args.name, **options)
    text = f"{info.rows} rows x {len(info.columns)} columns"
    display(HTML(message_html("added", name=info.name, text=text)))
    for warning in info.warnings:
        display(HTML(message_html("warning:", text=warning)))
    return info


def _preview(reg: DatasetRegistry, args: argparse.Namespace) -> Any:
    return reg.preview(args.name, n=args.rows)


def _profile(reg: DatasetRegistry, args: argparse.Namespace) -> Any:
    profile = reg.profile(args.name)
    print(profile_text(profile))
    return profile


def _remove(reg: DatasetRegistry, args: argparse.Namespace) -> Any:
    info = reg.remove(args.name)
    display(HTML(message_html("removed", name=info.name)))
    return info


_DATASET_ACTIONS: dict[str, Callable[[DatasetRegistry, argparse.Namespace], Any]] = {
    "list": _list,
    "add": _add,
    "preview": _preview,
    "profile": _profile,
    "remove": _remove,
}
