"""A run's life: opened (run_start, data, tools), then finished exactly once (run_end and
`run.json`) as ok, failed, limit or cancelled, whatever stopped it."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from .._version import __version__
from ..brains.prompts import MAX_TOOL_DOC_CHARS
from ..errors import AgentForgeError
from ..events import Event, RunRecorder, new_run_id
from ..state import StateDir, atomic_write_bytes
from .errors import AgentError, RunFailed
from .options import RunContext
from .records import RUN_FILE, Run

__all__ = [
    "CANCEL_SETTLE_S",
    "after_cancel",
    "final_reason",
    "final_status",
    "finish",
    "open_run",
    "start",
    "stop_steps",
]

CANCEL_SETTLE_S = 5.0
TOOLS_SHOWN = 5

log = logging.getLogger(__name__)


def open_run(
    ctx: RunContext, state: StateDir, goal: str, subscribers: list[Callable[[Event], None] | None]
) -> Run:
    if not goal or not goal.strip():
        raise AgentError("the goal is empty; say what you want to find out")
    run_id = new_run_id()
    run_dir = state.run_dir(run_id)
    recorder = RunRecorder(run_id, run_dir)
    for callback in subscribers:
        if callback is not None:
            recorder.subscribe(callback)
    brain = ctx.brain
    return Run(
        run_id=run_id,
        goal=goal.strip(),
        recorder=recorder,
        brain=str(getattr(brain, "name", type(brain).__name__)),
        brain_kind=str(getattr(brain, "kind", "")),
        model=str(getattr(brain, "model", "")),
        session_id=ctx.session.session_id,
        run_dir=run_dir,
        state_root=state.root,
        started=time.time(),
        limits=ctx.options.limits,
        _t0=time.monotonic(),
    )


def start(ctx: RunContext, run: Run, state: StateDir) -> None:
    """`run_start`, then the tools the brain will be shown. Raises RunFailed when the data
    cannot be named or read (after `run_start`, so the failure is recorded)."""
    options = ctx.options
    failure: RunFailed | None = None
    try:
        run.dataset = ctx.data.ref(run)
    except RunFailed as exc:
        failure = exc
    run.recorder.emit(
        "run_start",
        goal=run.goal,
        dataset=run.dataset.to_dict() if run.dataset else None,
        brain=run.brain,
        brain_kind=run.brain_kind,
        model=run.model,
        limits=run.limits.to_dict(),
        session_id=run.session_id,
        repairs=options.repairs,
        step_timeout=options.step_timeout,
        follow_up=len(ctx.session.history),
        agentforge_version=__version__,
    )
    if failure is not None:
        raise failure
    ctx.data.profile()  # a dataset that cannot be read fails here, not in the first prompt
    run.tools = list(options.tools) if options.tools else retrieve_tools(ctx, run, state)
    if run.tools:
        run.recorder.emit("tools", tools=run.tools)


def retrieve_tools(ctx: RunContext, run: Run, state: StateDir) -> list[dict[str, Any]]:
    """The registry's tools most relevant to this goal and dataset (signatures and
    docstrings only: the prompt stays the same size however large the registry)."""
    from ..tools import ToolError, ToolRegistry

    try:
        hits = ToolRegistry.opened(state).retrieve(run.goal, ctx.data.profile(), k=TOOLS_SHOWN)
    except (ToolError, AgentForgeError, ValueError, TypeError, KeyError) as exc:
        # A broken or wrongly shaped tools.json must not stop a run.
        log.warning("tool retrieval skipped: %s", exc)
        return []
    return [
        {
            "name": h.name,
            "version": h.version,
            "signature": h.signature,
            "doc": h.docstring[:MAX_TOOL_DOC_CHARS],
            "score": round(h.score, 3),
        }
        for h in hits
    ]


def final_status(run: Run) -> str:
    return "failed" if any(s.status != "ok" for s in run.steps) else "ok"


def final_reason(run: Run) -> str:
    failed = [s for s in run.steps if s.status != "ok"]
    if failed:
        names = ", ".join(f"{s.step.id} ({s.step.title})" for s in failed)
        reason = f"{len(failed)} of {len(run.steps)} step(s) failed after repairs: {names}"
    else:
        reason = f"{len(run.steps)} step(s) completed"
    planned = run.steps_planned
    if len(run.steps) < planned:
        reason += (
            f"; {len(run.steps)} of {planned} planned steps ran (the step limit is "
            f"{run.limits.max_steps})"
        )
    if run.insights_error:
        reason += f"; insights unavailable: {run.insights_error}"
    return reason


def stop_steps(run: Run, status: str) -> None:
    for record in run.steps:
        if record.status == "pending":
            record.status = status
            run.recorder.emit(
                "step_end",
                step=record.step.id,
                status=status,
                attempts=len(record.attempts),
                duration_s=round(record.duration_s, 6),
            )


def finish(ctx: RunContext, run: Run, status: str, reason: str) -> None:
    """End the run once: `run_end`, the session's history, `run.json`."""
    if run.done:
        return
    run.status = status
    run.reason = reason
    run.ended = time.time()
    run.duration_s = run.elapsed()
    run.recorder.emit(
        "run_end",
        status=status,
        reason=reason,
        duration_s=round(run.duration_s, 6),
        brain_calls=run.brain_calls,
        prompt_tokens=run.prompt_tokens,
        completion_tokens=run.completion_tokens,
        brain_s=round(run.brain_s, 6),
        exec_s=round(run.exec_s, 6),
        steps_ok=sum(1 for s in run.steps if s.status == "ok"),
        steps_failed=sum(1 for s in run.steps if s.status not in ("ok", "pending")),
        steps_planned=run.steps_planned,
        insights=len(run.insights),
    )
    ctx.session.remember(run)
    if run.run_dir is not None:
        atomic_write_bytes(
            run.run_dir / RUN_FILE,
            json.dumps(run.to_dict(), indent=1, default=str).encode("utf-8"),
            durable=False,
        )


#: Why a run was cancelled when no other reason was given (Ctrl-C, a task cancelled, cancel()).
USER_CANCEL = "cancelled by the user"


async def after_cancel(ctx: RunContext, run: Run, reason: str = USER_CANCEL) -> None:
    """Record the cancellation (with `reason`) and leave the sandbox idle and usable."""
    if run.done:
        return
    run.recorder.emit("cancelled", reason=reason)
    stop_steps(run, "cancelled")
    sandbox = ctx.session.sandbox
    if sandbox is not None and sandbox.started:
        with contextlib.suppress(Exception):
            await sandbox.interrupt()
            # Waits for the interrupted cell; one that ignores the interrupt is killed
            # by the sandbox's own watchdog (loaded data is replayed after a restart).
            await sandbox.execute("pass", timeout=CANCEL_SETTLE_S)
    finish(ctx, run, "cancelled", reason)
