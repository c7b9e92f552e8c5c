"""The `agentforge` command: one sub-command module per concept, all thin over the services."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .._version import __version__
from ..errors import AgentForgeError
from . import analyze, brains, datasets, doctor, execute, lint, state, tools

# Each module adds its sub-commands and sets `func` (args -> exit code) on its parsers.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    datasets.register,
    lint.register,
    execute.register,
    doctor.register,
    state.register,
    brains.register,
    tools.register,
    analyze.register,
    __import__("agentforge_jupyter.cli.run", fromlist=["register"]).register,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentforge",
        description="AgentForge for Jupyter: LLM data analysts with sandboxed execution.",
    )
    parser.add_argument("--version", action="version", version=f"agentforge {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in COMMANDS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AgentForgeError as exc:
        print(f"agentforge: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("agentforge: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
