"""`agentforge datasets add|list|preview|profile|remove`."""

from __future__ import annotations

import argparse
import sys

from ..argtypes import positive_int
from ..datasets import profile_text
from ..sanitize import terminal_text
from ..text_table import text_table
from ._io import print_json, registry


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("datasets", help="add, list, preview, profile and remove datasets")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="copy a CSV/TSV/JSON/JSONL/Parquet/Excel file into the state")
    add.add_argument("path")
    add.add_argument("--name", help="dataset name (default: from the file name)")
    add.add_argument(
        "--sep", help="CSV/TSV field separator, e.g. ';' or '\\t' (default: sniffed from the file)"
    )
    add.add_argument(
        "--decimal", help="decimal mark of CSV/TSV numbers, '.' or ',' (default: sniffed)"
    )
    add.add_argument("--encoding", help="text encoding, e.g. latin-1 or cp1252 (default: UTF-8)")
    add.add_argument("--sheet", help="Excel sheet name or 0-based number (default: the first)")
    add.set_defaults(func=add_dataset)

    listing = sub.add_parser("list", help="list registered datasets")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=list_datasets)

    preview = sub.add_parser("preview", help="show the first rows")
    preview.add_argument("name")
    preview.add_argument("-n", type=positive_int, default=10, help="rows to show (default 10)")
    preview.add_argument("--json", action="store_true")
    preview.set_defaults(func=preview_dataset)

    profile = sub.add_parser("profile", help="compact per-column profile (what a brain sees)")
    profile.add_argument("name")
    profile.add_argument("--json", action="store_true")
    profile.set_defaults(func=profile_dataset)

    remove = sub.add_parser("remove", help="remove a dataset and its stored copy")
    remove.add_argument("name")
    remove.set_defaults(func=remove_dataset)


def add_dataset(args: argparse.Namespace) -> int:
    sep = "\t" if args.sep in ("\\t", "tab", "TAB") else args.sep
    info = registry().add(
        args.path,
        name=args.name,
        sep=sep,
        encoding=args.encoding,
        decimal=args.decimal,
        sheet=args.sheet,  # text: a sheet of that name, else digits are its number
    )
    read_as = f", read with {_options_text(info.options)}" if info.source_format else ""
    print(
        f"added {info.name}: {info.rows} rows x {len(info.columns)} columns ({info.format}, "
        f"{info.size} bytes, sha256 {info.sha256[:12]}{read_as})"
    )
    for warning in info.warnings:
        print(f"agentforge: warning: {terminal_text(warning)}", file=sys.stderr)
    return 0


def _options_text(options: dict[str, object]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


def list_datasets(args: argparse.Namespace) -> int:
    datasets = registry()
    infos = datasets.list()
    for problem in datasets.problems():
        print(f"agentforge: warning: {terminal_text(problem)}", file=sys.stderr)
    if args.json:
        print_json([info.to_dict() for info in infos])
        return 0
    if not infos:
        print("no datasets; add one with `agentforge datasets add PATH`")
        return 0
    rows = [[i.name, i.format, i.rows, len(i.columns), i.size, i.added] for i in infos]
    print(text_table(["name", "format", "rows", "columns", "bytes", "added"], rows))
    return 0


def preview_dataset(args: argparse.Namespace) -> int:
    frame = registry().preview(args.name, n=args.n)
    if args.json:
        print_json(frame.to_dict(orient="records"))
    else:
        print(terminal_text(frame.to_string()))
    return 0


def profile_dataset(args: argparse.Namespace) -> int:
    profile = registry().profile(args.name)
    if args.json:
        print_json(profile)
    else:
        print(terminal_text(profile_text(profile)))
    return 0


def remove_dataset(args: argparse.Namespace) -> int:
    info = registry().remove(args.name)
    print(f"removed {info.name}")
    return 0
