"""`agentforge run NOTEBOOK.ipynb [--dataset NAME] [--timeout S] [--output PATH]`: execute a
notebook (one from someone else, an export, a download) cell by cell in the sandbox kernel and
write the executed notebook. Exits 1 on the first failing cell, like nbclient."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..argtypes import positive_float
from ..notebook_runner import RunData, run_notebook_file
from ..sanitize import terminal_text
from ._io import dataset_name, registry


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "run", help="execute a notebook in the sandbox kernel and write it with its outputs"
    )
    parser.add_argument("notebook", help="the .ipynb to execute")
    parser.add_argument(
        "--dataset",
        metavar="NAME|PATH",
        help="a registered dataset, or a data file (registered first): mounted read-only, "
        "loaded as df, and data_path",
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=60.0, help="seconds per cell (default 60)"
    )
    parser.add_argument(
        "--output", metavar="PATH", help="where to write it (default: NOTEBOOK-executed.ipynb)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    source = Path(args.notebook).expanduser()
    output = Path(args.output) if args.output else source.with_name(f"{source.stem}-executed.ipynb")
    data = None
    if args.dataset:
        reg = registry()
        name = dataset_name(args.dataset)
        info = reg.get(name)
        file = reg.path(name)
        data = RunData(str(file.parent), file.name, info.format)
    result = run_notebook_file(source, output, data=data, timeout=args.timeout)
    where = f" ({result.isolation} isolation)" if result.isolation else ""
    print(f"executed {result.executed} cell(s) in the sandbox{where}; wrote {output}")
    if result.ok:
        return 0
    failure = terminal_text(result.failure)
    print(f"agentforge: cell {result.failed_cell} failed: {failure}", file=sys.stderr)
    if "No such file" in failure and not args.dataset:
        print(
            "  (a data file is missing: pass --dataset DATA_FILE or NAME to mount one)",
            file=sys.stderr,
        )
    return 1
