"""The `agentforge` command: one sub-command module per concept, all thin over the services.

Start-up is lazy: the parser knows every command from `COMMANDS` (name, module, one-line help)
and imports only the module of the command that runs, so `agentforge --version` and
`agentforge lint FILE` do not pay for pandas, jupyter_client or nbformat. A module adds its
parser in `register(commands)` and sets `func` (args -> exit code) on it.

Adding a command is one row here, e.g.
    Command("run", "run", "execute a notebook cell by cell in the sandbox"),
plus `agentforge_jupyter/cli/run.py` with `register(commands)`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .._version import __version__
from ..errors import AgentForgeError
from ..sanitize import terminal_text


class Command:
    """A sub-command: what the user types, the module under agentforge_jupyter.cli that defines
    `register(commands)`, and the help line shown without importing that module. (A plain class:
    `typing`/`dataclasses` would cost more start-up time than this whole module.)"""

    __slots__ = ("help", "module", "name")

    def __init__(self, name: str, module: str, help: str) -> None:
        self.name, self.module, self.help = name, module, help


COMMANDS: list[Command] = [
    Command("datasets", "datasets", "add, list, preview, profile and remove datasets"),
    Command("lint", "lint", "check Python files, directories and notebooks against the policy"),
    Command("exec", "execute", "lint, then run code in the sandbox kernel"),
    Command("doctor", "doctor", "check isolation, versions and the sandbox"),
    Command("state", "state", "inspect and repair the state directory"),
    Command("brains", "brains", "configure the LLM brains that write the code"),
    Command("tools", "tools", "verified, versioned tools for the sandbox"),
    Command("analyze", "analyze", "run the agent on a goal; export a notebook"),
    Command("run", "run", "execute a notebook cell by cell in the sandbox kernel"),
    Command("eval", "evaluate", "score brains on DS-1000 or DABench and compare them"),
    Command("train", "train", "train LoRA specialists locally or on RunPod; follow their logs"),
]


def _requested(argv: Sequence[str]) -> Command | None:
    """The command named on the command line (the first argument that is not an option)."""
    by_name = {c.name: c for c in COMMANDS}
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return by_name.get(arg)
    return None


def build_parser(load: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; commands in `load` (all when None) get their full parsers, the others a
    placeholder with their help line."""
    parser = argparse.ArgumentParser(
        prog="agentforge",
        description="AgentForge for Jupyter: LLM data analysts with sandboxed execution.",
    )
    parser.add_argument("--version", action="version", version=f"agentforge {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        if load is None or command.name in load:
            module = importlib.import_module(f"{__name__}.{command.module}")
            module.register(commands)
        else:
            commands.add_parser(command.name, help=command.help)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    command = _requested(args_in)
    parser = build_parser(load=[command.name] if command else [])
    args = parser.parse_args(args_in)
    try:
        return int(args.func(args) or 0)
    except AgentForgeError as exc:
        # Messages quote file names, data and endpoints' replies: nothing a terminal acts on.
        print(f"agentforge: error: {terminal_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("agentforge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader left early (`| head`): stop quietly as Unix tools do, and keep Python's
        # final flush of stdout from failing again on the way out.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # as if killed by SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
