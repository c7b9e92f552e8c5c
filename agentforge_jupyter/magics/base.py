"""What every AgentForge magics class shares: the state directory, and argument parsing.

Arguments are parsed with IPython's `magic_arguments`, so a bad line is a `UsageError` (one clear
message, no traceback, and the cell still fails a headless run). `-h/--help` prints the help and
the magic does nothing else: IPython's parser has no help option of its own.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.magic import Magics
from IPython.core.magic_arguments import (
    ArgDecorator,
    MagicArgumentParser,
    argument,
    parse_argstring,
    real_name,
)
from IPython.display import display
from traitlets import Unicode

from ..render import message_html
from ..state import StateDir


class StateMagics(Magics):
    """What every AgentForge magics class shares: the state directory it works on.
    `c.StateMagics.state_dir = "..."` sets it for all of them."""

    state_dir = Unicode(
        "",
        help="State directory for datasets, tools, brains and runs. Empty: AGENTFORGE_STATE_DIR, "
        "else the default state directory.",
    ).tag(config=True)

    def store(self) -> StateDir:
        return StateDir(self.state_dir or None)

    def ipython(self) -> InteractiveShell:
        """The shell these magics were registered with (`self.shell`, never None once loaded)."""
        if self.shell is None:
            raise UsageError(
                "These AgentForge magics are not attached to an IPython shell: load them with "
                "%load_ext agentforge_jupyter."
            )
        return self.shell


class HelpShown(Exception):
    """Raised by `--help` once the help is printed; the magic then returns without acting."""


class _HelpAction(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, **_: Any) -> None:
        super().__init__(
            option_strings,
            dest=argparse.SUPPRESS,
            default=argparse.SUPPRESS,
            nargs=0,
            help="show this help and do nothing else",
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        parser.print_help()
        raise HelpShown


class help_flag(ArgDecorator):
    """Adds `-h/--help` to a magic's parser (lower case, like IPython's `argument`)."""

    def add_to_parser(self, parser: argparse.ArgumentParser, group: Any) -> None:
        add_help_option(parser)


def add_help_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-h", "--help", action=_HelpAction)


class subcommands(ArgDecorator):
    """Sub-commands (`%agent_datasets add PATH ...`), each with its own `argument`s and help.

    `commands` maps a name to (help, [argument(...), ...]); the chosen name lands in `dest`
    (None when the line names none)."""

    def __init__(self, dest: str, commands: dict[str, tuple[str, list[argument]]]) -> None:
        self.dest = dest
        self.commands = commands

    def add_to_parser(self, parser: argparse.ArgumentParser, group: Any) -> None:
        actions = parser.add_subparsers(
            dest=self.dest,
            parser_class=MagicArgumentParser,
            metavar="{" + ",".join(self.commands) + "}",
        )
        for name, (text, arguments) in self.commands.items():
            sub = actions.add_parser(name, help=text, description=text)
            add_help_option(sub)
            for arg in arguments:
                arg.add_to_parser(sub, None)


def parse_line(magic: Callable[..., Any], line: str) -> argparse.Namespace | None:
    """The parsed arguments of `magic` for `line`; None when `--help` was shown instead."""
    try:
        return parse_argstring(magic, line)
    except HelpShown:
        return None
    except UsageError as exc:
        name = real_name(magic)
        raise UsageError(f"%{name}: {exc} (see %{name} --help)") from None


_HELP_BODY = "# (help requested: the cell body is not used)\n"


def help_cell_transform(cell_magics: set[str]) -> Callable[[list[str]], list[str]]:
    """An input transformer: `%%agent --help` alone in a cell gets a placeholder body.

    IPython refuses a cell magic with an empty body before the magic is called, so without this
    `%%agent --help` could only complain about the body instead of showing the help."""

    def transform(lines: list[str]) -> list[str]:
        if not lines or not lines[0].startswith("%%") or any(s.strip() for s in lines[1:]):
            return lines
        name, _, rest = lines[0][2:].strip().partition(" ")
        if name in cell_magics and {"-h", "--help"} & set(rest.split()):
            return [lines[0].rstrip("\n") + "\n", _HELP_BODY]
        return lines

    transform.agentforge_help = True  # type: ignore[attr-defined]
    return transform


def notice(
    label: str,
    *,
    name: Any = None,
    code: Any = None,
    text: Any = None,
    items: Sequence[Any] = (),
) -> None:
    """Show a short notice as HTML (escaped) with a plain-text twin for logs and terminals."""
    plain = " ".join(str(p) for p in (label, name, code) if p)
    plain += f": {text}" if text else ""
    plain += "".join(f"\n  - {item}" for item in items)
    html = message_html(label, name=name, code=code, text=text, items=items)
    display({"text/html": html, "text/plain": plain}, raw=True)
