"""`%%agent`, `%agent_pull` and `%agent_brains`: the agent in a notebook.

Front end only: an `Agent` does the work; a `RunView` renders its events in place. Consecutive
`%%agent` cells share one `AgentSession` (one sandbox, and the history follow-ups need).
Configure with traitlets, e.g. `c.AgentMagics.default_brain = "lab-vllm"`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic import cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import HTML, display
from traitlets import Float, Int, Unicode

from ._loop import run_sync
from .agent import Agent, AgentSession, Run, RunLimits
from .brains.registry import BrainRegistry
from .errors import AgentForgeError
from .export import export_notebook
from .magics import StateMagics
from .render import esc, html_table
from .widgets.run_view import RunView


class AgentRunFailed(AgentForgeError):
    """A `%%agent` run did not succeed; raised after rendering so headless runs fail."""

    def __init__(self, run: Run) -> None:
        super().__init__(f"AgentForge run {run.run_id} ended {run.status}: {run.reason}")
        self.run = run


@magics_class
class AgentMagics(StateMagics):
    default_brain = Unicode(
        "",
        help="Brain used when --brain is not given (empty: the "
        "registry's default, normally the offline brain).",
    ).tag(config=True)
    default_dataset = Unicode(
        "sales_q3", help="Dataset used when neither --dataset nor --df is given."
    ).tag(config=True)
    default_steps = Int(8, help="Most plan steps a run executes (--steps).").tag(config=True)
    default_repairs = Int(2, help="Repair attempts per step (--repairs).").tag(config=True)
    default_timeout = Float(60.0, help="Seconds per step execution (--timeout).").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.session: AgentSession | None = None
        self.last_run: Run | None = None

    def _session(self, new: bool) -> AgentSession:
        if new and self.session is not None:
            self.close_session()
        if self.session is None:
            self.session = AgentSession(state=self.store())
        return self.session

    def close_session(self) -> None:
        if self.session is not None and self.session.sandbox is not None:
            run_sync(self.session.aclose())
        self.session = None

    @magic_arguments()
    @argument("--dataset", help="a registered dataset name (default: the configured one)")
    @argument("--df", metavar="VARIABLE", help="a DataFrame in this notebook (sent as Parquet)")
    @argument("--brain", help="brain name (see %%agent_brains)")
    @argument("--steps", type=int, help="most plan steps to run")
    @argument("--repairs", type=int, help="repair attempts per step")
    @argument("--timeout", type=float, help="seconds per step execution")
    @argument("--review", action="store_true", help="stop after the plan; edit it, then run it")
    @argument("--new", action="store_true", help="start a fresh sandbox session")
    @argument("--insert", action="store_true", help="insert the run's code as a new cell below")
    @argument("--export", metavar="PATH", help="export the run as a notebook (.ipynb)")
    @argument("--quiet", action="store_true", help="show only the summary and insights")
    @argument(
        "--auto-register",
        action="store_true",
        help="register tools the brain proposes once they pass verification",
    )
    @cell_magic
    def agent(self, line: str, cell: str) -> Run | Any:
        """Ask an AgentForge brain to analyse a dataset; the goal is the cell body.

        The code runs in an isolated sandbox kernel, never in this one. The cell's value is
        the Run; a failed or cancelled run raises after it is shown."""
        args = parse_argstring(self.agent, line)
        goal = cell.strip()
        if not goal:
            raise UsageError("%%agent needs a goal in the cell body, e.g. 'revenue by region'")
        agent = self._agent(args)
        if args.review:
            return self._review(agent, goal)
        view = RunView(quiet=args.quiet)
        view.show()
        try:
            run = agent.run(goal, on_event=view)
        except KeyboardInterrupt:
            view.finish()
            raise
        view.finish()
        return self._after(run, args)

    def _agent(self, args: Any) -> Agent:
        if args.df and args.dataset:
            raise UsageError("give --dataset or --df, not both")
        dataset: str | pd.DataFrame = args.dataset or self.default_dataset
        if args.df:
            frame = self.shell.user_ns.get(args.df)
            if not isinstance(frame, pd.DataFrame):
                raise UsageError(f"--df {args.df}: no DataFrame of that name in this notebook")
            dataset = frame
        else:
            from .datasets import DatasetRegistry

            DatasetRegistry.opened(self.store())
        return Agent(
            brain=args.brain or self.default_brain or None,
            dataset=dataset,
            session=self._session(args.new),
            state=self.store(),
            limits=RunLimits(max_steps=args.steps or self.default_steps),
            repairs=self.default_repairs if args.repairs is None else args.repairs,
            step_timeout=args.timeout or self.default_timeout,
            propose_tools=True,
            auto_register=args.auto_register,
        )

    def _after(self, run: Run, args: Any) -> Run:
        self.last_run = run
        from .widgets.tool_proposal import proposal_buttons

        buttons = proposal_buttons(run)
        if buttons is not None:
            display(buttons)
        if args.export:
            path = export_notebook(run, args.export)
            display(HTML(f"exported notebook: <code>{esc(path)}</code>"))
        if args.insert:
            self.shell.set_next_input(run_code(run), replace=False)
        if run.status != "ok":
            raise AgentRunFailed(run)
        return run

    def _review(self, agent: Agent, goal: str) -> Any:
        from .widgets.plan_review import PlanReview

        plan = agent.plan(goal)

        def execute(edited: Any) -> Run:
            view = RunView()
            view.show()
            run = agent.execute(edited, on_event=view)
            view.finish()
            self.last_run = run
            return run

        review = PlanReview(plan, execute)
        display(review.widget)
        return review

    @line_magic
    def agent_pull(self, line: str) -> pd.DataFrame:
        """%agent_pull NAME [--as VAR]: copy a DataFrame from the agent's sandbox (Parquet)."""
        parts = line.split()
        if not parts:
            raise UsageError("usage: %agent_pull NAME [--as VARIABLE]")
        name = parts[0]
        target = parts[parts.index("--as") + 1] if "--as" in parts[1:-1] else name
        if self.session is None or self.session.sandbox is None:
            raise UsageError("no agent session yet: run an %%agent cell first")
        frame = run_sync(self.session.sandbox.get_dataframe(name))
        self.shell.user_ns[target] = frame
        return frame

    @line_magic
    def agent_brains(self, line: str) -> list[Any]:
        """%agent_brains: the configured brains (the default marked with *)."""
        registry = BrainRegistry(self.store())
        default = registry.default_name()
        specs = registry.list()
        rows = [
            ["*" if s.name == default else "", s.name, s.kind, s.model or "", s.describe()]
            for s in specs
        ]
        display(HTML(html_table(["", "name", "kind", "model", "where"], rows, "brains")))
        return specs


def run_code(run: Run) -> str:
    """The run's successful code as one cell, with its provenance in a header comment."""
    header = (
        f"# AgentForge run {run.run_id}: {run.goal}\n"
        f"# brain {run.brain} ({run.model}); re-runs with `df` loaded as in the sandbox\n"
    )
    blocks = [f"# {s.step.title}\n{s.code}" for s in run.steps if s.code and s.status == "ok"]
    return header + "\n\n".join(blocks) + "\n"
