"""`agentforge lint PATH|- [--json]`: exit 1 when there is an error finding."""

from __future__ import annotations

import argparse

from ..lint import has_errors, lint
from ._io import print_json, read_source


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("lint", help="check Python code against the sandbox policy")
    parser.add_argument("path", help="a .py file, or - for standard input")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    findings = lint(read_source(args.path))
    if args.json:
        print_json([f.to_dict() for f in findings])
    else:
        for f in findings:
            print(f"{args.path}:{f.line}:{f.col}: {f.code} {f.severity}: {f.message}")
            if f.hint:
                print(f"    hint: {f.hint}")
        if not findings:
            print("no findings")
    return 1 if has_errors(findings) else 0
