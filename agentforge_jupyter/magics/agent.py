"""`%%agent`, `%agent_pull` and `%agent_brains`: the agent in a notebook.

Front end only: an `Agent` does the work; a `RunView` renders its events in place. Consecutive
`%%agent` cells share one `AgentSession` (one sandbox, the history follow-ups need, and the brain
the session was started with). Configure with traitlets, e.g. `c.AgentMagics.default_brain`.
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd
from IPython.core.error import UsageError
from IPython.core.magic import cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import HTML, display
from traitlets import Float, Int, Unicode

from .._loop import run_sync
from ..agent import DEFAULT_MAX_STEPS, Agent, AgentSession, Run, RunLimits, validate_steps
from ..argtypes import non_negative_int, positive_float
from ..brains.registry import BrainRegistry
from ..datasets import DatasetRegistry
from ..errors import AgentForgeError
from ..export import export_notebook
from ..render import html_table
from ..sandbox.config import SandboxConfig
from ..widgets.plan_review import PlanReview
from ..widgets.run_view import RunView
from ..widgets.tool_proposal import proposal_buttons
from .base import StateMagics, help_flag, notice, parse_line
from .insert import inserted_cell


class AgentRunFailed(AgentForgeError):
    """A `%%agent` run did not succeed; raised after rendering so headless runs fail."""

    def __init__(self, run: Run) -> None:
        super().__init__(f"AgentForge run {run.run_id} ended {run.status}: {run.reason}")
        self.run = run


@magics_class
class AgentMagics(StateMagics):
    default_brain = Unicode(
        "",
        help="Brain used when --brain is not given and the session has none yet (empty: the "
        "registry's default, normally the offline brain).",
    ).tag(config=True)
    default_dataset = Unicode(
        "sales_q3", help="Dataset used when neither --dataset nor --df is given."
    ).tag(config=True)
    default_steps = Int(DEFAULT_MAX_STEPS, help="Most plan steps a run executes (--steps).").tag(
        config=True
    )
    default_repairs = Int(2, help="Repair attempts per step (--repairs).").tag(config=True)
    default_timeout = Float(60.0, help="Seconds per step execution (--timeout).").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.session: AgentSession | None = None
        self.session_brain: str | None = None  # what follow-ups without --brain keep using
        self.last_run: Run | None = None
        self.review: PlanReview | None = None  # a plan waiting for the user, if any

    def _session(self, new: bool) -> AgentSession:
        if new and self.session is not None:
            self.close_session()
        if self.session is None:
            self.session = AgentSession(
                state=self.store(), sandbox_settings={"config": self.sandbox_config()}
            )
            self.session_brain = None
        return self.session

    def sandbox_config(self) -> SandboxConfig:
        """The sandbox settings from this IPython's config (`c.SandboxConfig.*`)."""
        return SandboxConfig(config=self.shell.config if self.shell is not None else None)

    def close_session(self) -> None:
        self._replace_review("the session was closed")
        if self.session is not None and self.session.sandbox is not None:
            run_sync(self.session.aclose())
        self.session = None
        self.session_brain = None

    @magic_arguments(name="%agent")  # usage shows %%agent
    @help_flag()
    @argument("--dataset", help="a registered dataset name (default: the configured one)")
    @argument("--df", metavar="VARIABLE", help="a DataFrame in this notebook (sent as Parquet)")
    @argument(
        "--keep-attrs",
        action="store_true",
        help="with --df: send DataFrame.attrs too (default: they are dropped before the transfer)",
    )
    @argument("--brain", help="brain name (see %%agent_brains; default: the session's brain)")
    @argument("--steps", type=validate_steps, help="most plan steps to run (1 or more)")
    @argument("--repairs", type=non_negative_int, help="repair attempts per step (0 or more)")
    @argument("--timeout", type=positive_float, help="seconds per step execution")
    @argument("--review", action="store_true", help="stop after the plan; edit it, then run it")
    @argument("--new", action="store_true", help="start a fresh sandbox session")
    @argument("--insert", action="store_true", help="insert the run's code as a new cell below")
    @argument(
        "--export",
        metavar="PATH",
        help="export the run as a notebook (.ipynb), or into a directory DIR/ with its data",
    )
    @argument("--quiet", action="store_true", help="show only the summary and insights")
    @argument(
        "--propose-tools",
        action="store_true",
        help="after the run, ask the brain for reusable tools (verified before they are shown)",
    )
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
        args = parse_line(self.agent, line)
        if args is None:
            return None
        goal = cell.strip()
        if not goal:
            raise UsageError("%%agent needs a goal in the cell body, e.g. 'revenue by region'")
        if args.export:
            _check_export_path(args.export)
        agent = self._agent(args)
        self._replace_review("a newer %%agent cell started")
        if args.review:
            return self._review(agent, goal)
        view = RunView(quiet=args.quiet)
        view.show()
        try:
            run = agent.run(goal, on_event=view)
        except KeyboardInterrupt:
            view.finish()
            self.last_run = agent.last_run  # the cancelled run, as recorded
            raise
        view.finish()
        for note in agent.session.transfer_notes:  # the data changed on its way: say how
            notice("note:", text=note)
        return self._after(run, args)

    def _agent(self, args: argparse.Namespace) -> Agent:
        if args.df and args.dataset:
            raise UsageError("give --dataset or --df, not both")
        if args.keep_attrs and not args.df:
            raise UsageError("--keep-attrs only applies with --df")
        dataset: str | pd.DataFrame = args.dataset or self.default_dataset
        if args.df:
            dataset = self._frame(args.df, args.keep_attrs)
        else:
            DatasetRegistry.opened(self.store())
        session = self._session(args.new)
        brain = args.brain or self.session_brain or self.default_brain or None
        steps = args.steps or self.default_steps
        if steps < 1:
            raise UsageError(f"c.AgentMagics.default_steps must be 1 or more, not {steps}")
        try:
            agent = Agent(
                brain=brain,
                dataset=dataset,
                session=session,
                state=self.store(),
                limits=RunLimits(max_steps=steps),
                repairs=self.default_repairs if args.repairs is None else args.repairs,
                step_timeout=args.timeout or self.default_timeout,
                sandbox_settings={"config": self.sandbox_config()},
                propose_tools=args.propose_tools,
                auto_register=args.auto_register,
                keep_attrs=args.keep_attrs,
            )
        except AgentForgeError as exc:  # an unknown brain or dataset: the user's to fix
            raise UsageError(f"%%agent: {exc}") from exc
        self.session_brain = getattr(agent.brain, "name", None) or brain
        return agent

    def _frame(self, variable: str, keep_attrs: bool) -> pd.DataFrame:
        frame = self.ipython().user_ns.get(variable)
        if not isinstance(frame, pd.DataFrame):
            raise UsageError(f"--df {variable}: no DataFrame of that name in this notebook")
        if keep_attrs or not frame.attrs:
            return frame
        # attrs can hold anything (credentials, large objects); they cross only when asked
        # (the sandbox transfer drops them too, unless keep_attrs reaches it).
        dropped = sorted(str(k) for k in frame.attrs)
        # A new frame over the same data has no attrs; copy() would deep-copy them (and fail
        # on a lock or a connection held there).
        frame = pd.DataFrame(frame, copy=False)
        notice(
            "note:",
            text=f"DataFrame.attrs of {variable} were dropped before the transfer "
            f"(keys: {', '.join(dropped)}); pass --keep-attrs to send them",
        )
        return frame

    def _after(self, run: Run, args: argparse.Namespace) -> Run:
        self.last_run = run
        buttons = proposal_buttons(run)
        if buttons is not None:
            display(buttons)
        if args.export:
            path = export_notebook(run, args.export)
            notice("exported notebook:", code=path)
        if args.insert:
            self._insert(run)
        if run.status != "ok":
            raise AgentRunFailed(run)
        return run

    def _insert(self, run: Run) -> None:
        if run.plan is None:
            notice("nothing inserted:", text="the run has no plan")
            return
        cell = inserted_cell(run, self.store())
        self.ipython().set_next_input(cell.source, replace=False)
        for label, reasons in cell.blocked:
            notice(
                "inserted commented out:",
                name=label,
                text="host-side lint found errors, so it cannot run",
                items=reasons,
            )

    def _review(self, agent: Agent, goal: str) -> PlanReview:
        plan = agent.plan(goal)
        self.last_run = agent.last_run  # the run waiting in review (status "running")

        def execute(edited: Any) -> Run:
            view = RunView()
            view.show()
            try:
                run = agent.execute(edited, on_event=view)
            except KeyboardInterrupt:
                view.finish()
                self.last_run = agent.last_run
                raise
            view.finish()
            self.last_run = run
            return run

        def abandon(why: str) -> None:
            agent.abandon(why)
            self.last_run = agent.last_run

        self.review = PlanReview(plan, execute, abandon)
        display(self.review.widget)
        return self.review

    def _replace_review(self, why: str) -> None:
        if self.review is not None and self.review.open:
            self.review.replace(why)
        self.review = None

    @magic_arguments()
    @help_flag()
    @argument("name", help="a DataFrame variable in the agent's sandbox")
    @argument("--as", dest="target", metavar="VARIABLE", help="name in this notebook")
    @line_magic
    def agent_pull(self, line: str) -> pd.DataFrame | None:
        """Copy a DataFrame from the agent's sandbox into this notebook (as Parquet)."""
        args = parse_line(self.agent_pull, line)
        if args is None:
            return None
        target = args.target or args.name
        if not target.isidentifier():
            raise UsageError(f"%agent_pull: {target!r} is not a valid Python name")
        if self.session is None or self.session.sandbox is None:
            raise UsageError("no agent session yet: run an %%agent cell first")
        frame = run_sync(self.session.sandbox.get_dataframe(args.name))
        self.ipython().user_ns[target] = frame
        return frame

    @magic_arguments()
    @help_flag()
    @line_magic
    def agent_brains(self, line: str) -> list[Any] | None:
        """The configured brains (the default marked with *)."""
        if parse_line(self.agent_brains, line) is None:
            return None
        registry = BrainRegistry(self.store())
        default = registry.default_name()
        specs = registry.list()
        rows = [
            ["*" if s.name == default else "", s.name, s.kind, s.model or "", s.describe()]
            for s in specs
        ]
        display(HTML(html_table(["", "name", "kind", "model", "where"], rows, "brains")))
        return specs


def _check_export_path(path: str) -> None:
    """Refuse an export target that cannot be written before the run, not after it: a
    notebook path ending in .ipynb, or a directory (ending in /) for notebook plus data."""
    from ..export import ExportError
    from ..export.writer import check_export_target

    try:
        check_export_target(path)
    except ExportError as exc:
        raise UsageError(str(exc)) from exc
