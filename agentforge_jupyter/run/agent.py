"""`Agent`: the facade front ends use. It resolves the brain, the data and the session, and
hands the work to the Runner; its behaviour is configured by one `AgentOptions`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..brains.base import Brain, Plan
from ..events import Event
from ..state import StateDir
from .data import DataSource
from .errors import AgentError
from .lifecycle import USER_CANCEL, open_run
from .limits import RunLimits
from .options import AgentOptions, RunContext
from .records import Run
from .runner import Runner
from .session import AgentSession
from .sync import call_sync

if TYPE_CHECKING:
    import pandas as pd

    from ..datasets import DatasetRegistry
    from ..sandbox.kernel import KernelSandbox

__all__ = ["Agent"]

OnEvent = Callable[[Event], None]


class Agent:
    """Plans, writes, lints, runs and repairs analysis code for a goal, in a sandbox.

        agent = Agent(brain="offline", dataset="sales_q3")
        run = agent.run("which region drove Q3 revenue?")   # or: await agent.arun(...)
        run.status, run.insights, run.steps[0].code

    `brain`: a Brain, a registered brain name, or None for the default brain. `dataset`: a
    registered dataset name, a pandas DataFrame (sent to the sandbox as Parquet), or None.
    `options`: an AgentOptions; its fields may also be given as keywords (repairs=1, ...),
    which override it.
    """

    def __init__(
        self,
        brain: Brain | str | None = None,
        dataset: str | pd.DataFrame | None = None,
        *,
        options: AgentOptions | None = None,
        sandbox: KernelSandbox | None = None,
        session: AgentSession | None = None,
        state: StateDir | str | None = None,
        registry: DatasetRegistry | None = None,
        on_event: OnEvent | None = None,
        **settings: Any,
    ) -> None:
        unknown = sorted(set(settings) - AgentOptions.names())
        if unknown:
            raise TypeError(
                f"Agent() got unexpected keyword argument(s) {', '.join(unknown)}; the "
                f"settings are: {', '.join(sorted(AgentOptions.names()))}"
            )
        self.options = replace(options or AgentOptions(), **settings)
        if session is not None and sandbox is not None:
            raise AgentError("pass either a sandbox or a session (which has its own sandbox)")
        self.state = _state(state, registry)
        resolved = _resolve_brain(brain, self.state)
        data = DataSource(
            dataset, state=self.state, variable=self.options.variable, registry=registry
        )
        session = session or AgentSession(
            sandbox, sandbox_settings=self.options.sandbox_settings, state=self.state
        )
        self.on_event = on_event
        self._runner = Runner(RunContext(resolved, self.options, data, session), self.state)

    def __repr__(self) -> str:
        name = getattr(self.brain, "name", type(self.brain).__name__)
        return f"Agent(brain={name!r}, dataset={self._ctx.data.label()!r})"

    # ----- what it is configured with ---------------------------------------------------
    @property
    def _ctx(self) -> RunContext:
        return self._runner.ctx

    @property
    def brain(self) -> Brain:
        return self._ctx.brain

    @property
    def dataset(self) -> str | pd.DataFrame | None:
        return self._ctx.data.dataset

    @property
    def registry(self) -> DatasetRegistry:
        return self._ctx.data.registry

    @property
    def session(self) -> AgentSession:
        return self._ctx.session

    @property
    def limits(self) -> RunLimits:
        return self.options.limits

    @property
    def last_run(self) -> Run | None:
        """The newest Run, also after a cancellation, Ctrl-C or an internal error."""
        return self._runner.last_run

    def new_session(self) -> AgentSession:
        """Forget earlier runs; the next run starts a fresh sandbox (the old one is closed)."""
        old = self.session
        self._ctx.session = AgentSession(
            sandbox_settings=self.options.sandbox_settings, state=self.state
        )
        if old.sandbox is not None and old.owns_sandbox:
            _close_on(old)
        return self.session

    # ----- async API --------------------------------------------------------------------
    async def arun(self, goal: str, *, on_event: OnEvent | None = None) -> Run:
        """Plan and execute `goal`; returns the finished Run (status ok/failed/limit/cancelled).

        Cancelling the awaiting task records the run as cancelled, interrupts the sandbox and
        re-raises CancelledError (the Run is in `agent.last_run`); `agent.cancel()` instead
        makes this return the cancelled Run."""
        self.session.bind_loop()  # refuse early, before a run is opened
        run = self._open(goal, on_event)
        return await self._runner.drive(run, lambda: self._runner.plan_and_execute(run))

    async def aplan(self, goal: str, *, on_event: OnEvent | None = None) -> Plan:
        """Only the plan (review mode). The run stays open until `aexecute(plan)`."""
        self.session.bind_loop()
        run = self._open(goal, on_event)
        await self._runner.drive(run, lambda: self._runner.make_plan(run), finish=False)
        if run.done:  # failed, cancelled or over a limit while planning
            raise AgentError(f"planning ended with status {run.status}: {run.reason}")
        assert run.plan is not None
        self._runner.pending = run
        return Plan.from_dict(run.plan.to_dict())  # the caller may edit its copy

    async def aexecute(self, plan: Plan, *, on_event: OnEvent | None = None) -> Run:
        """Execute a (possibly edited) plan: continues the run `aplan` opened, or opens one."""
        self.session.bind_loop()
        if not plan.steps:
            raise AgentError("the plan has no steps; add at least one before executing it")
        runner = self._runner
        run, runner.pending = runner.pending, None
        if run is None or run.goal != plan.goal:
            if run is not None:
                runner.finish(run, "cancelled", "the plan was replaced by another goal's plan")
            run = self._open(plan.goal, on_event)
        elif on_event is not None:
            run.recorder.subscribe(on_event)
        current = run

        async def body() -> None:
            if current.plan is None or plan.to_dict() != current.plan.to_dict():
                current.plan = Plan.from_dict(plan.to_dict())
                current.recorder.emit("plan", plan=current.plan.to_dict(), attempt=0, source="user")
            await runner.execute_plan(current)

        return await runner.drive(run, body)

    def _open(self, goal: str, on_event: OnEvent | None) -> Run:
        if self._runner.pending is not None:
            self._runner.abandon_pending("another goal was started")
        run = open_run(self._ctx, self.state, goal, [self.on_event, on_event])
        self._runner.last_run = run
        return run

    # ----- sync API ---------------------------------------------------------------------
    def run(self, goal: str, *, on_event: OnEvent | None = None) -> Run:
        """Blocking `arun`. Runs on AgentForge's background loop thread (so it works inside a
        running event loop, e.g. a notebook cell) and calls `on_event` in this thread.
        Ctrl-C cancels the run, waits for it to be recorded, then re-raises KeyboardInterrupt
        (the cancelled Run is `agent.last_run`)."""
        return self._sync(lambda cb: self.arun(goal, on_event=cb), on_event)

    def plan(self, goal: str, *, on_event: OnEvent | None = None) -> Plan:
        """Blocking `aplan`."""
        return self._sync(lambda cb: self.aplan(goal, on_event=cb), on_event)

    def execute(self, plan: Plan, *, on_event: OnEvent | None = None) -> Run:
        """Blocking `aexecute`."""
        return self._sync(lambda cb: self.aexecute(plan, on_event=cb), on_event)

    def _sync(self, make: Callable[[Any], Awaitable[Any]], on_event: OnEvent | None) -> Any:
        return call_sync(make, on_event, self.cancel)

    def cancel(self, reason: str = USER_CANCEL) -> bool:
        """Cancel the active run from any thread; True if one was running. The run records
        `reason` (default: cancelled by the user)."""
        return self._runner.cancel(reason)

    def abandon(self, why: str) -> None:
        """Drop a planned run that is waiting for review (recorded as cancelled, with `why`)."""
        self._runner.abandon_pending(why)

    # ----- closing ----------------------------------------------------------------------
    async def aclose(self) -> None:
        self._runner.abandon_pending("the agent was closed")
        await self.session.aclose()

    def close(self) -> None:
        self._runner.abandon_pending("the agent was closed")
        if self.session.loop is not None:
            _close_on(self.session)

    async def __aenter__(self) -> Agent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _state(state: StateDir | str | None, registry: DatasetRegistry | None) -> StateDir:
    if registry is not None:
        return registry.store
    return state if isinstance(state, StateDir) else StateDir(state)


def _resolve_brain(brain: Brain | str | None, state: StateDir) -> Brain:
    if brain is not None and not isinstance(brain, str):
        if not hasattr(brain, "ask"):
            raise AgentError(f"{brain!r} is not a brain: it has no async ask(request) method")
        return brain
    from ..brains.registry import BrainRegistry

    return BrainRegistry(state).get(brain)


def _close_on(session: AgentSession) -> None:
    """Close `session` on the loop its sandbox belongs to, from this thread or that one."""
    loop = session.loop
    if loop is None or loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(session.aclose())
    else:
        asyncio.run_coroutine_threadsafe(session.aclose(), loop).result(60)
