"""`agentforge tools add|list|show|search|deprecate|remove`."""

from __future__ import annotations

import argparse

from agentforge_jupyter.tools import (
    ToolRegistry,
    describe_tool,
    hits_table,
    tools_table,
)


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
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=search_tools)

    deprecate = sub.add_parser("deprecate", help="stop importing/retrieving a tool (kept)")
    deprecate.add_argument("ref", metavar="NAME[@VERSION]")
    deprecate.set_defaults(func=deprecate_tool)

    remove = sub.add_parser("remove", help="delete a tool (all versions) or NAME@VERSION")
    remove.add_argument("ref", metavar="NAME[@VERSION]")
    remove.set_defaults(func=remove_tool)


def add_tool(args: argparse.Namespace) -> int:
    tool = ToolRegistry().register_file(args.path, name=args.name)
    print(f"registered {tool.ref}: {tool.verification.get('examples_run')} example(s) passed")
    return 0


def list_tools(args: argparse.Namespace) -> int:
    tools = ToolRegistry().list()
    if args.json:
        print_json([t.to_dict() for t in tools])
    else:
        print(tools_table(tools))
    return 0


def show_tool(args: argparse.Namespace) -> int:
    registry = ToolRegistry()
    tool = registry.get(args.ref)
    if args.json:
        print_json(tool.to_dict())
    else:
        print(describe_tool(tool, registry.versions(tool.name)))
    return 0


def search_tools(args: argparse.Namespace) -> int:
    hits = ToolRegistry().retrieve(args.query, k=args.k)
    if args.json:
        print_json([h.to_dict() for h in hits])
    else:
        print(hits_table(hits))
    return 0


def deprecate_tool(args: argparse.Namespace) -> int:
    changed = ToolRegistry().deprecate(args.ref)
    print("deprecated " + (", ".join(t.ref for t in changed) or "nothing (no verified version)"))
    return 0


def remove_tool(args: argparse.Namespace) -> int:
    count = ToolRegistry().remove(args.ref)
    print(f"removed {args.ref} ({count} version(s))")
    return 0


def print_json(data):  # in cli/: use ._io.print_json
    import json
    import sys

    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")
