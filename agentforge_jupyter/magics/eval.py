"""`%agent_eval SUITE --brain NAME ...`: an evaluation with a live progress bar and table.

The same service as `agentforge eval`; the final table is also printed as plain text, so a saved
notebook shows the result without a live kernel.
"""

from __future__ import annotations

import html
from typing import Any

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..argtypes import positive_float, positive_int
from .base import StateMagics, help_flag, parse_line


class EvalProgress:
    """A progress bar and the side-by-side table, updated as each task finishes."""

    def __init__(self, brains: list[str]) -> None:
        import ipywidgets as widgets

        self.brains = brains
        self.records: list[Any] = []
        self.bar = widgets.IntProgress(value=0, min=0, max=1, description="tasks")
        self.label = widgets.Label("starting sandboxes...")
        self.table = widgets.HTML()
        self.widget = widgets.VBox([widgets.HBox([self.bar, self.label]), self.table])

    def __call__(self, record: Any, done: int, total: int) -> None:
        from ..evals.summary import summarize, text_report

        self.records.append(record)
        self.bar.max, self.bar.value = total, done
        self.label.value = f"{done}/{total}: {record.brain} {record.task_id}"
        report = text_report(summarize(self.records, self.brains))
        self.table.value = f"<pre>{html.escape(report)}</pre>"


@magics_class
class EvalMagics(StateMagics):
    @magic_arguments()
    @help_flag()
    @argument("suite", help="ds1000:PATH or dabench:DIR")
    @argument("--brain", action="append", default=[], help="a brain (repeat to compare)")
    @argument("--mode", choices=("completion", "agent"), default="completion")
    @argument("--limit", type=positive_int, help="at most N tasks")
    @argument("--library", help="DS-1000: only this library")
    @argument("--level", help="DABench: only this level")
    @argument("--seed", type=int, help="sample --limit tasks with this seed")
    @argument("--workers", type=positive_int, help="parallel sandboxes (default: the cores)")
    @argument("--timeout", type=positive_float, default=120.0, help="seconds per task")
    @argument("--resume", metavar="ID", help="finish an interrupted evaluation")
    @line_magic
    def agent_eval(self, line: str) -> Any:
        """Run a benchmark through one or more brains; returns the EvalResult."""
        from IPython.display import display

        from ..evals import run_eval
        from ..evals.service import options_from
        from ..evals.summary import text_report

        args = parse_line(self.agent_eval, line)
        if args is None:
            return None
        progress = EvalProgress(list(args.brain))
        display(progress.widget)
        result = run_eval(
            args.suite, args.brain, **options_from(args), on_record=progress, state=self.store()
        )
        print(f"evaluation {result.id}\n{text_report(result.summary)}")
        return result
