"""`agentforge tools add|list|show|search|verify|deprecate|remove`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from ..argtypes import positive_int
from ..sanitize import terminal_text
from ._io import print_json

if TYPE_CHECKING:
    from agentforge_jupyter.tools import ToolRegistry


def _registry() -> ToolRegistry:
    # Imported on use: `agentforge --version` and other commands need no tool machinery.
    from agentforge_jupyter.tools import ToolRegistry

    return ToolRegistry.opened()


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("tools", help="verified, versioned tools for the sandbox")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="verify a .py file's function (lint + doctests) and store it")
    add.add_argument("path")
    add.add_argument("--name", help="must equal the function's name (checked)")
    add.set_defaults(func=add_tool)

    listing = sub.add_parser("list", help="one line per tool (latest verified version)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=list_tools)

    show = sub.add_parser("show", help="source, docstring, provenance and versions")
    show.add_argument("ref", metavar="NAME[@VERSION]")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=show_tool)

    search = sub.add_parser("search", help="tools relevant to a goal (what a run retrieves)")
    search.add_argument("query")
    search.add_argument("-k", type=positive_int, default=5)
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=search_tools)

    verify = sub.add_parser(
        "verify",
        help="verify tools on this machine (lint + doctests in a fresh sandbox): only tools "
        "verified here are offered to runs",
    )
    verify.add_argument("names", nargs="*", default=[], metavar="NAME")
    verify.add_argument("--all", action="store_true", help="every tool not deprecated")
    verify.set_defaults(func=verify_tools)

    deprecate = sub.add_parser("deprecate", help="stop importing/retrieving a tool (kept)")
    deprecate.add_argument("ref", metavar="NAME[@VERSION]")
    deprecate.set_defaults(func=deprecate_tool)

    remove = sub.add_parser("remove", help="delete a tool (all versions) or NAME@VERSION")
    remove.add_argument("ref", metavar="NAME[@VERSION]")
    remove.set_defaults(func=remove_tool)


def add_tool(args: argparse.Namespace) -> int:
    tool = _registry().register_file(args.path, name=args.name)
    print(f"registered {tool.ref}: {tool.verification.get('examples_run')} example(s) passed")
    return 0


def _as_json(tool: Any) -> dict[str, Any]:
    return {**tool.to_dict(), "verified_here": tool.verified_here}


def _report_problems(registry: ToolRegistry, problems: list[str] | None = None) -> None:
    for problem in registry.problems() if problems is None else problems:
        print(f"agentforge: warning: {terminal_text(problem)}", file=sys.stderr)


def list_tools(args: argparse.Namespace) -> int:
    registry = _registry()
    loaded = registry.load()
    tools = registry.all()
    if args.json:
        print_json([_as_json(t) for t in tools])
    else:
        from agentforge_jupyter.tools import tools_table

        print(tools_table(tools))
    _report_problems(registry, loaded.problems)
    return 0


def show_tool(args: argparse.Namespace) -> int:
    registry = _registry()
    tool = registry.get(args.ref)
    if args.json:
        print_json(_as_json(tool))
    else:
        from agentforge_jupyter.tools import describe_tool

        print(describe_tool(tool, registry.versions(tool.name)))
    return 0


def search_tools(args: argparse.Namespace) -> int:
    registry = _registry()
    hits = registry.retrieve(args.query, k=args.k)
    _report_problems(registry)
    if args.json:
        print_json([h.to_dict() for h in hits])
    else:
        from agentforge_jupyter.tools import hits_table

        print(hits_table(hits))
    return 0


def verify_tools(args: argparse.Namespace) -> int:
    if bool(args.names) == bool(args.all):
        print("agentforge: error: give tool NAMEs or --all (not both)", file=sys.stderr)
        return 2
    registry = _registry()
    reports = registry.reverify(None if args.all else args.names)
    failed = 0
    for ref, report in reports.items():
        if report.passed:
            print(f"verified {ref} on this machine: {report.examples_run} example(s) passed")
        else:
            failed += 1
            print(f"FAILED {ref} ({report.stage} check); not offered to runs:")
            print(terminal_text(report.describe()))  # quotes what the examples printed
    if not reports:
        print("nothing to verify")
    return 1 if failed else 0


def deprecate_tool(args: argparse.Namespace) -> int:
    changed = _registry().deprecate(args.ref)
    print("deprecated " + (", ".join(t.ref for t in changed) or "nothing (no verified version)"))
    return 0


def remove_tool(args: argparse.Namespace) -> int:
    count = _registry().remove(args.ref)
    print(f"removed {args.ref} ({count} version(s))")
    return 0
