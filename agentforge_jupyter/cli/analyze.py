"""`agentforge analyze "GOAL" [--dataset NAME|PATH] [--brain NAME] [--steps N] [--export PATH]
[--json]`: the main job. Progress is printed from the run's events as they happen."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..agent import Agent, RunLimits
from ..events import Event
from ..export import export_notebook
from ._io import print_json, registry


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("analyze", help="run the agent on a goal; export a notebook")
    parser.add_argument("goal", help='e.g. "which region drove Q3 revenue growth?"')
    parser.add_argument(
        "--dataset", default="sales_q3", help="a registered dataset name, or a file to add first"
    )
    parser.add_argument("--brain", help="a brain name (default: the configured default brain)")
    parser.add_argument("--steps", type=int, default=8, help="most plan steps to run (default 8)")
    parser.add_argument("--repairs", type=int, default=2, help="repairs per step (default 2)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per step execution")
    parser.add_argument("--export", metavar="PATH", help="write the run as a notebook (.ipynb)")
    parser.add_argument("--json", action="store_true", help="print the run as JSON at the end")
    parser.add_argument(
        "--auto-register",
        action="store_true",
        help="register the tools the brain proposes once they pass verification",
    )
    parser.set_defaults(func=run)


def _dataset_name(spec: str) -> str:
    """A registered name as is; a path to a file is registered first (or reused)."""
    reg = registry()
    if spec in reg:
        return spec
    path = Path(spec).expanduser()
    if path.is_file():
        for info in reg.list():
            if info.source == str(path.resolve()):
                return info.name
        return reg.add(path).name
    reg.get(spec)  # raises the registry's clear "no dataset named ..." error
    return spec


def run(args: argparse.Namespace) -> int:
    dataset = _dataset_name(args.dataset)
    printer = ProgressPrinter(sys.stderr if args.json else sys.stdout)
    with Agent(
        brain=args.brain,
        dataset=dataset,
        limits=RunLimits(max_steps=args.steps),
        repairs=args.repairs,
        step_timeout=args.timeout,
        propose_tools=True,
        auto_register=args.auto_register,
    ) as agent:
        result = agent.run(args.goal, on_event=printer)
    exported = None
    if args.export:
        exported = export_notebook(result, args.export)
        printer.line(f"exported notebook: {exported}")
    if args.json:
        print_json({**result.to_dict(), "exported": str(exported) if exported else None})
    return 0 if result.ok else 1


class ProgressPrinter:
    """Turns events into terminal lines as they arrive."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def __call__(self, event: Event) -> None:
        handler = getattr(self, f"on_{event.type}", None)
        if handler is not None:
            handler(event)

    def on_run_start(self, e: Event) -> None:
        self.line(f"goal: {e['goal']}")
        dataset = e["dataset"] or {}
        name = dataset.get("name", "-") if isinstance(dataset, dict) else dataset
        self.line(f"dataset: {name}   brain: {e['brain']} ({e['model']})")

    def on_plan(self, e: Event) -> None:
        steps = e["plan"]["steps"]
        self.line(f"plan ({len(steps)} steps):")
        for i, step in enumerate(steps, 1):
            self.line(f"  {i}. {step['title']}")

    def on_step_start(self, e: Event) -> None:
        self.line(f"[{e['index']}/{e['total']}] {e['step']['title']}")

    def on_lint(self, e: Event) -> None:
        if not e["ok"]:
            codes = ", ".join(sorted({f["code"] for f in e["findings"]}))
            self.line(f"    lint rejected attempt {e['attempt']} ({codes}); asking for a repair")

    def on_execution(self, e: Event) -> None:
        self.line(f"    ran: {e['status']} in {e['duration_s']:.2f} s")
        for note in e["notes"]:
            self.line(f"    note: {note}")

    def on_repair(self, e: Event) -> None:
        self.line(f"    repair {e['attempt']}: {e['reason']}")

    def on_output(self, e: Event) -> None:
        if e["kind"] == "stream" and e.get("name", "stdout") == "stdout":
            for text in str(e.get("text", "")).splitlines()[:20]:
                self.line(f"    | {text}")
        elif e["kind"] == "display" and e.get("mime") == "image/png":
            self.line("    | [chart]")

    def on_error(self, e: Event) -> None:
        self.line(f"    error ({e['stage']}): {e['message']}")

    def on_insight(self, e: Event) -> None:
        if e["index"] == 0:
            self.line("insights:")
        self.line(f"  - {e['text']}")

    def on_tool_proposal(self, e: Event) -> None:
        state = "verified" if e["verified"] else f"refused: {e['problem']}"
        self.line(f"    tool proposed: {e['name']} ({state})")

    def on_tool_registered(self, e: Event) -> None:
        self.line(f"    tool registered: {e['name']}@{e['version']}")

    def on_limit(self, e: Event) -> None:
        self.line(f"limit reached: {e['message']}")

    def on_run_end(self, e: Event) -> None:
        reason = f": {e['reason']}" if e["reason"] else ""
        self.line(f"run {e['status']} in {e['duration_s']:.1f} s{reason}")
