"""`agentforge exec PATH|- [--dataset NAME] [--timeout S] [--no-lint] [--json]`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from ..argtypes import positive_float
from ..lint import has_errors, lint
from ..sandbox import ExecutionResult, KernelSandbox
from ..sandbox.outputs import table_to_text
from ..sandbox.result import PNG, TABLE, TEXT
from ..sanitize import terminal_text
from ._io import print_json, read_source, registry


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("exec", help="lint, then run code in the sandbox kernel")
    parser.add_argument("path", help="a .py file, or - for standard input")
    parser.add_argument("--dataset", help="load this dataset as `df` first")
    parser.add_argument("--timeout", type=positive_float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--no-lint", action="store_true", help="skip the linter (trusted code)")
    parser.add_argument("--json", action="store_true", help="print the ExecutionResult as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    code = read_source(args.path)
    if not args.no_lint:
        findings = lint(code)
        if has_errors(findings):
            return _rejected(args, findings)
    result = asyncio.run(_execute(code, args.dataset, args.timeout))
    if args.json:
        print_json(result.to_dict())
    else:
        _print_result(result)
    return 0 if result.ok else 1


def _rejected(args: argparse.Namespace, findings: list) -> int:
    if args.json:
        print_json({"status": "rejected", "lint": [f.to_dict() for f in findings]})
    else:
        print("not run: the linter rejected the code", file=sys.stderr)
        for f in findings:
            print(f"  line {f.line}:{f.col} {f.code}: {f.message}", file=sys.stderr)
    return 1


async def _execute(code: str, dataset: str | None, timeout: float) -> ExecutionResult:
    reg = registry()
    info = reg.get(dataset) if dataset else None
    # Only the one dataset file is mounted, read-only: nothing else of the state is visible.
    files = [str(reg.path(dataset))] if dataset else []
    async with KernelSandbox(dataset_files=files) as sandbox:
        if info is not None:
            await sandbox.load_dataset(Path(info.file).name, info.format)
        return await sandbox.execute(code, timeout=timeout)


def _print_result(result: ExecutionResult) -> None:
    # Everything here comes out of the sandbox: no escape sequence reaches the terminal.
    sys.stdout.write(terminal_text(result.stdout))
    sys.stderr.write(terminal_text(result.stderr))
    for display in result.displays:
        if display.mime == TEXT:
            print(terminal_text(display.data))
        elif display.mime == TABLE:
            print(terminal_text(table_to_text(display.data)))
        elif display.mime == PNG:
            print(f"[PNG image, {len(display.data) * 3 // 4} bytes]")
    if result.error:
        error = "\n".join(result.error.traceback) or f"{result.error.name}: {result.error.value}"
        print(terminal_text(error), file=sys.stderr)
    for note in result.notes:
        print(f"note: {terminal_text(note)}", file=sys.stderr)
    print(f"[{result.status} in {result.duration_s:.2f} s]", file=sys.stderr)
