"""`agentforge analyze "GOAL" [--dataset NAME|PATH] [--brain NAME] [--steps N] [--export PATH|DIR]
[--json] [--verbose]`: the main job. Progress is printed from the run's events as they happen;
everything printed from the sandbox or a brain goes through `sanitize.terminal_text`."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import Any

from ..agent import DEFAULT_MAX_STEPS, Agent, RunLimits, validate_steps
from ..argtypes import non_negative_int, positive_float
from ..events import Event
from ..export import check_export_target, write_export
from ..sanitize import one_line, terminal_text
from ._io import dataset_name, print_json

_SHORT_TRACEBACK_LINES = 8
_SHORT_MESSAGE_LINES = 6


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("analyze", help="run the agent on a goal; export a notebook")
    parser.add_argument("goal", help='e.g. "which region drove Q3 revenue growth?"')
    parser.add_argument(
        "--dataset", default="sales_q3", help="a registered dataset name, or a file to add first"
    )
    parser.add_argument("--brain", help="a brain name (default: the configured default brain)")
    parser.add_argument(
        "--steps",
        type=validate_steps,
        default=DEFAULT_MAX_STEPS,
        help=f"most plan steps to run (default {DEFAULT_MAX_STEPS})",
    )
    parser.add_argument(
        "--repairs", type=non_negative_int, default=2, help="repairs per step (default 2)"
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=60.0, help="seconds per step execution"
    )
    parser.add_argument(
        "--export",
        metavar="PATH",
        help="write the run as a notebook (.ipynb), or into a directory (existing or ending "
        "in /) with a copy of its data",
    )
    parser.add_argument("--json", action="store_true", help="print the run as JSON at the end")
    parser.add_argument(
        "--propose-tools",
        action="store_true",
        help="after the run, ask the brain once for reusable tools (verified before shown)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="print full tracebacks and error messages"
    )
    parser.add_argument(
        "--auto-register",
        action="store_true",
        help="register the tools the brain proposes once they pass verification",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # A bad --export fails now, not after the whole run.
    target = check_export_target(args.export) if args.export else None
    dataset = dataset_name(args.dataset)
    printer = ProgressPrinter(
        sys.stderr if args.json else sys.stdout, verbose=args.verbose, repairs=args.repairs
    )
    with _sigterm_as_interrupt() as terminated:
        try:
            with Agent(
                brain=args.brain,
                dataset=dataset,
                limits=RunLimits(max_steps=args.steps),
                repairs=args.repairs,
                step_timeout=args.timeout,
                propose_tools=args.propose_tools,
                auto_register=args.auto_register,
            ) as agent:
                result = agent.run(args.goal, on_event=printer)
        except KeyboardInterrupt:
            if not terminated:
                raise
            print("agentforge: terminated; the run was cancelled and recorded", file=sys.stderr)
            return 128 + signal.SIGTERM
    exported = None
    if target is not None:
        exported = write_export(result, target)
        printer.report_export(exported)
    if args.json:
        print_json({**result.to_dict(), "exported": str(exported.notebook) if exported else None})
    return 0 if result.ok else 1


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[list[int]]:
    """SIGTERM (a service manager, `kill`) cancels the run like Ctrl-C, so that it still ends
    with `run_end` and `run.json`. Yields a list that holds the signal once it came."""
    received: list[int] = []

    def handler(signum: int, frame: Any) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def _one(text: object) -> str:
    """Model or data text that fills one printed line: a line break in it could print a line
    that looks like AgentForge's own (a forged "run ok ...")."""
    return one_line(terminal_text(text))


class ProgressPrinter:
    """Turns events into terminal lines as they arrive (all text made inert for a terminal)."""

    def __init__(self, stream: Any, *, verbose: bool = False, repairs: int = 2) -> None:
        self.stream = stream
        self.verbose = verbose
        self.repairs = repairs
        self._errors: list[str] = []  # messages already shown, not to be repeated at the end

    def line(self, text: str) -> None:
        print(terminal_text(text), file=self.stream, flush=True)

    def __call__(self, event: Event) -> None:
        handler = getattr(self, f"on_{event.type}", None)
        if handler is not None:
            handler(event)

    def on_run_start(self, e: Event) -> None:
        self.line(f"goal: {_one(e['goal'])}")
        dataset = e["dataset"] or {}
        name = dataset.get("name", "-") if isinstance(dataset, dict) else dataset
        self.line(f"dataset: {_one(name)}   brain: {_one(e['brain'])} ({_one(e['model'])})")

    def on_plan(self, e: Event) -> None:
        steps = e["plan"]["steps"]
        self.line(f"plan ({len(steps)} steps):")
        for i, step in enumerate(steps, 1):
            self.line(f"  {i}. {_one(step['title'])}")

    def on_step_start(self, e: Event) -> None:
        self.line(f"[{e['index']}/{e['total']}] {_one(e['step']['title'])}")

    def on_lint(self, e: Event) -> None:
        if e["ok"]:
            return
        codes = ", ".join(sorted({f["code"] for f in e["findings"]}))
        more = "; asking for a repair" if e["attempt"] < self.repairs else ""
        self.line(f"    lint rejected attempt {e['attempt']} ({codes}){more}")
        for finding in e["findings"][: None if self.verbose else 3]:
            self.line(f"      line {finding.get('line')}: {_one(finding.get('message'))}")

    def on_execution(self, e: Event) -> None:
        self.line(f"    ran: {e['status']} in {e['duration_s']:.2f} s")
        for note in e["notes"]:
            self.line(f"    note: {_one(note)}")

    def on_repair(self, e: Event) -> None:
        self.line(f"    repair {e['attempt']}: asking the brain to fix the {e['reason']}")

    def on_output(self, e: Event) -> None:
        if e["kind"] == "stream" and e.get("name", "stdout") == "stdout":
            for text in terminal_text(e.get("text", "")).splitlines()[:20]:
                self.line(f"    | {text}")
        elif e["kind"] == "display" and e.get("mime") == "image/png":
            self.line("    | [chart]")

    def on_error(self, e: Event) -> None:
        self._errors.append(str(e["message"]))
        if e["stage"] == "execute" and not self.verbose:
            lines = _short_traceback(e)
        else:
            lines = terminal_text(e["message"]).strip().splitlines()
            if not self.verbose and len(lines) > _SHORT_MESSAGE_LINES:
                lines = [*lines[:_SHORT_MESSAGE_LINES], "(more with --verbose)"]
        self.line(f"    error ({e['stage']}):")
        for text in lines:
            self.line(f"      {text}")

    def on_insight(self, e: Event) -> None:
        if e["index"] == 0:
            self.line("insights:")
        self.line(f"  - {_one(e['text'])}")

    def on_tool_proposal(self, e: Event) -> None:
        state = "verified" if e["verified"] else f"refused: {e['problem']}"
        self.line(f"    tool proposed: {_one(e['name'])} ({_one(state)})")

    def on_tool_registered(self, e: Event) -> None:
        self.line(f"    tool registered: {_one(e['name'])}@{e['version']}")

    def on_limit(self, e: Event) -> None:
        self._errors.append(str(e["message"]))
        self.line(f"limit reached: {_one(e['message'])}")

    def on_run_end(self, e: Event) -> None:
        reason = str(e["reason"] or "")
        shown = reason and any(reason.strip() in message for message in self._errors)
        suffix = f": {reason}" if reason and not shown else ""
        self.line(f"run {e['status']} in {e['duration_s']:.1f} s{_one(suffix)}")

    def report_export(self, exported: Any) -> None:
        self.line(f"exported notebook: {exported.notebook}")
        if exported.data is not None:
            self.line(f"data copied beside it: {exported.data}")
        if exported.blocked:
            self.line(
                f"blocked {len(exported.blocked)} cell(s) on export (host-side lint found "
                "errors); they are written commented out:"
            )
            for text in exported.blocked_lines():
                self.line(f"  {text}")


def _short_traceback(e: Event) -> list[str]:
    """The last lines of the traceback (the failing frames) and the error itself."""
    frames = terminal_text("\n".join(e.get("traceback") or [])).splitlines()
    kept = [line for line in frames if line.strip() and not set(line.strip()) <= {"-"}]
    error = f"{e.get('name')}: {e.get('value')}" if e.get("name") else ""
    if error and kept and kept[-1].strip() == error.strip():
        kept = kept[:-1]
    if not kept and not error:
        return terminal_text(e["message"]).strip().splitlines()[:_SHORT_MESSAGE_LINES]
    tail = kept[-_SHORT_TRACEBACK_LINES:]
    hidden = len(kept) - len(tail)
    head = [f"... {hidden} more traceback line(s) with --verbose"] if hidden else []
    return [*head, *tail, *([error] if error else [])]
