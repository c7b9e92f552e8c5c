"""`agentforge state repair NAME`: set a corrupt document aside and start it afresh."""

from __future__ import annotations

import argparse

from ..state import StateDir


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("state", help="inspect and repair the state directory")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    where = sub.add_parser("path", help="print the state directory in use")
    where.set_defaults(func=show_path)
    repair = sub.add_parser(
        "repair", help="move a corrupt document aside (kept as NAME.corrupt-TIME.json)"
    )
    repair.add_argument("name", choices=["datasets", "tools", "brains"])
    repair.set_defaults(func=repair_document)


def show_path(args: argparse.Namespace) -> int:
    print(StateDir().root)
    return 0


def repair_document(args: argparse.Namespace) -> int:
    kept = StateDir().repair(args.name)
    if kept is None:
        print(f"{args.name}.json is valid; nothing to repair")
    else:
        print(f"{args.name}.json was corrupt: kept aside as {kept}; a fresh document was written")
    return 0
