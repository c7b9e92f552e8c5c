"""Drives a run from its first event to its last: plan (with the sandbox starting in the
background meanwhile), steps up to the user's step cap, insights, tool proposals; and turns
whatever stops it (a limit, a failure, a brain error, a cancellation, a bug) into its end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from ..brains.errors import BrainError
from ..errors import DatasetError, SandboxError
from ..state import StateDir
from . import gateway, lifecycle, planning, proposals, steps
from .errors import AgentError, LimitReached, RunFailed
from .options import RunContext
from .records import Run
from .text import split_insights

__all__ = ["Runner"]


class Runner:
    """The run loop of one Agent: at most one active run, and at most one planned run waiting
    for `execute` (review mode)."""

    def __init__(self, ctx: RunContext, state: StateDir) -> None:
        self.ctx = ctx
        self.state = state
        self.last_run: Run | None = None
        self.pending: Run | None = None  # planned (review mode), not yet executed
        self.active: tuple[asyncio.AbstractEventLoop, asyncio.Task[object]] | None = None
        # Set by cancel() (the reason the run records); None: no cancel() was asked for.
        self.cancel_reason: str | None = None
        self._prepare_task: asyncio.Future[None] | None = None

    # ----- the stages -------------------------------------------------------------------
    async def plan_and_execute(self, run: Run) -> None:
        await self.make_plan(run)
        await self.execute_plan(run)

    async def make_plan(self, run: Run) -> None:
        # The sandbox starts while the brain plans: start-up hides behind the first brain call.
        prepare = asyncio.ensure_future(self._prepare(run))
        self._prepare_task = prepare
        try:
            run.plan = await planning.ask_plan(self.ctx, run)
        except BaseException:
            # Not cancelled: a kernel half-started would leak. Let it finish, then report.
            with contextlib.suppress(BaseException):
                await asyncio.shield(prepare)
            raise

    async def _prepare(self, run: Run) -> None:
        session = self.ctx.session
        try:
            # Loading first lets the first run's dataset file be mounted when the kernel starts.
            if run.dataset is not None:
                await session.load(
                    run.dataset, self.ctx.data.frame, keep_attrs=self.ctx.options.keep_attrs
                )
            sandbox = await session.ensure_sandbox()
        except (SandboxError, DatasetError, AgentError, OSError) as exc:
            raise RunFailed("sandbox", f"the sandbox could not be prepared: {exc}") from exc
        if sandbox.isolation is not None:
            run.isolation = sandbox.isolation.level

    async def _ready(self, run: Run) -> None:
        prepare, self._prepare_task = self._prepare_task, None
        if prepare is not None:
            await asyncio.shield(prepare)  # a cancelled run must not cut a kernel start short
        await self._prepare(run)  # idempotent: a no-op when the task above did the work

    async def execute_plan(self, run: Run) -> None:
        assert run.plan is not None
        await self._ready(run)
        total = len(run.plan.steps)
        cap = run.limits.max_steps
        # The user's step cap is what they asked for, not a failure: the rest is not run.
        for index, step in enumerate(run.plan.steps[:cap], start=1):
            gateway.check_wall(run)
            await steps.run_step(self.ctx, run, index, step, min(total, cap))
        if any(s.status == "ok" for s in run.steps):
            await self._insights(run)
            await proposals.propose_tools(self.ctx, run, self.state)

    async def _insights(self, run: Run) -> None:
        request = gateway.request(self.ctx, run, "insights")
        try:
            reply = await gateway.ask(self.ctx, run, request, step=None)
        except BrainError as exc:
            # The analysis itself stands; only its summary is missing, and the user is told.
            run.insights_error = f"the brain could not write them ({exc})"
            gateway.emit_error(run, "insights", f"insights unavailable: {exc}")
            return
        run.insights_text = reply.text.strip()
        run.insights = split_insights(run.insights_text)
        for index, text in enumerate(run.insights):
            run.recorder.emit("insight", index=index, text=text)

    # ----- driving ----------------------------------------------------------------------
    async def drive(
        self, run: Run, body: Callable[[], Awaitable[None]], *, finish: bool = True
    ) -> Run:
        self.ctx.session.bind_loop()
        if self.active is not None:
            raise AgentError("this agent is already running a goal; wait for it or cancel it")
        task = asyncio.current_task()
        assert task is not None
        self.active = (asyncio.get_running_loop(), task)
        self.cancel_reason = None
        try:
            if not run.recorder.events:
                lifecycle.start(self.ctx, run, self.state)
            await body()
            if finish:
                self.finish(run, lifecycle.final_status(run), lifecycle.final_reason(run))
        except asyncio.CancelledError:
            reason = self.cancel_reason or lifecycle.USER_CANCEL
            await lifecycle.after_cancel(self.ctx, run, reason)
            if self.cancel_reason is None:  # not our cancel(): the caller cancelled the task
                raise
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+
            if uncancel is not None:
                uncancel()
        except (LimitReached, RunFailed, BrainError) as stop:
            self._stopped(run, stop)
        except BaseException as exc:
            # A bug in AgentForge (or KeyboardInterrupt in this thread): record, then raise.
            if not run.done:
                lifecycle.stop_steps(run, "failed")
                with contextlib.suppress(Exception):
                    self.finish(run, "failed", f"internal error: {type(exc).__name__}: {exc}")
            raise
        finally:
            self.active = None
            self.cancel_reason = None
        return run

    def _stopped(self, run: Run, stop: Exception) -> None:
        if isinstance(stop, LimitReached):
            lifecycle.stop_steps(run, "limit")
            run.recorder.emit(
                "limit", kind=stop.kind, limit=stop.limit, used=stop.used, message=stop.message
            )
            self.finish(run, "limit", stop.message)
            return
        lifecycle.stop_steps(run, "failed")
        if isinstance(stop, RunFailed):
            gateway.emit_error(run, stop.stage, stop.message)
            self.finish(run, "failed", stop.message)
            return
        message = f"the brain {run.brain!r} failed: {stop}"
        gateway.emit_error(run, "brain", message, name=type(stop).__name__)
        self.finish(run, "failed", message)

    def finish(self, run: Run, status: str, reason: str) -> None:
        lifecycle.finish(self.ctx, run, status, reason)

    def abandon_pending(self, why: str) -> None:
        run, self.pending = self.pending, None
        if run is not None:
            self.finish(run, "cancelled", f"the plan was not executed: {why}")

    def cancel(self, reason: str = lifecycle.USER_CANCEL) -> bool:
        """Cancel the active run from any thread; True if one was running. `reason` is what
        the run records (e.g. the server stopping)."""
        active = self.active
        if active is None:
            return False
        loop, task = active
        self.cancel_reason = reason
        loop.call_soon_threadsafe(task.cancel)
        return True
