"""`agentforge lint PATH... [--json]`: files, directories and notebooks, like `ruff check`.

Directories are searched for `.py` and `.ipynb` files (hidden directories, `__pycache__`,
`node_modules` and virtual environments skipped). Each code cell of a notebook is linted on its
own and reported as `path:cell N:line:col`, N counting every cell from 1 as Jupyter shows them.
Exit 1 when there is an error finding, 2 when a path cannot be read.

Start-up matters here (editors and hooks run it often): this module imports only the linter,
not pandas or nbformat (nor pathlib). A notebook is JSON; its code cells are read with `json`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import AgentForgeError
from ..lint import Finding, has_errors, lint

_SKIP_DIRS = frozenset(
    {"__pycache__", "node_modules", ".venv", "venv", ".git", ".ipynb_checkpoints"}
)


@dataclass(frozen=True)
class Source:
    path: str
    cell: int | None  # 1-based cell number for notebooks
    code: str

    def where(self, f: Finding) -> str:
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{f.line}:{f.col}"


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "lint", help="check Python files, directories and notebooks against the policy"
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help=".py/.ipynb files, directories, or - for stdin"
    )
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    sources = [s for path in args.paths for s in sources_of(path)]
    results = [(source, lint(source.code)) for source in sources]
    if args.json:
        import json

        rows = [
            {"path": s.path, "cell": s.cell, **f.to_dict()} for s, found in results for f in found
        ]
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_findings(results)
    return 1 if any(has_errors(found) for _s, found in results) else 0


def print_findings(results: list[tuple[Source, list[Finding]]]) -> None:
    errors = warnings = 0
    for source, found in results:
        for f in found:
            print(f"{source.where(f)}: {f.code} {f.severity}: {f.message}")
            if f.hint:
                print(f"    hint: {f.hint}")
            errors += f.severity == "error"
            warnings += f.severity != "error"
    files = len({s.path for s, _found in results})
    if errors or warnings:
        print(f"{errors} error(s), {warnings} warning(s) in {files} file(s)")
    else:
        print(f"no findings ({files} file(s))")


def sources_of(path: str) -> Iterator[Source]:
    if path == "-":
        yield Source("-", None, sys.stdin.read())
        return
    if os.path.isdir(path):
        files = sorted(_walk(path))
        if not files:
            raise AgentForgeError(f"{path} holds no .py or .ipynb files")
        for file in files:
            yield from _file_sources(file)
    elif os.path.exists(path):
        yield from _file_sources(path)
    else:
        raise AgentForgeError(f"cannot read {path}: no such file or directory")


def _walk(root: str) -> Iterator[str]:
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.is_dir():
                if not entry.name.startswith(".") and entry.name not in _SKIP_DIRS:
                    yield from _walk(entry.path)
            elif entry.name.endswith((".py", ".ipynb")):
                yield entry.path


def _file_sources(path: str) -> Iterator[Source]:
    text = _read(path)
    if path.endswith(".ipynb"):
        yield from _notebook_cells(path, text)
    else:
        yield Source(path, None, text)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read()
    except OSError as exc:
        raise AgentForgeError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise AgentForgeError(f"{path} is not UTF-8 text") from exc


def _notebook_cells(path: str, text: str) -> Iterator[Source]:
    import json

    try:
        cells = json.loads(text).get("cells")
    except (ValueError, AttributeError) as exc:
        raise AgentForgeError(f"{path} is not a Jupyter notebook (invalid JSON)") from exc
    if not isinstance(cells, list):
        raise AgentForgeError(f"{path} is not a Jupyter notebook (no list of cells)")
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        code = "".join(source) if isinstance(source, list) else str(source)
        yield Source(path, number, code)
