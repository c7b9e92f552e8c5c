"""The one way a run talks to its brain: requests built from the run, budgets enforced
(brain calls, tokens, wall time), every call recorded as a `brain_call` event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from ..brains.base import BrainReply, BrainRequest, PlanStep
from .errors import LimitReached
from .options import RunContext
from .records import Run

__all__ = ["ask", "check_wall", "emit_error", "execution_timeout", "request"]


def request(
    ctx: RunContext,
    run: Run,
    task: str,
    *,
    step: PlanStep | None = None,
    previous_code: str | None = None,
    error: str | None = None,
) -> BrainRequest:
    return BrainRequest(
        task=task,  # type: ignore[arg-type]
        goal=run.goal,
        dataset=ctx.data.profile(),
        plan=run.plan,
        step=step,
        observations=run.observations,
        previous_code=previous_code,
        error=error,
        tools=list(run.tools),
        history=list(ctx.session.history),
    )


async def ask(
    ctx: RunContext,
    run: Run,
    brain_request: BrainRequest,
    *,
    step: str | None,
    attempt: int = 0,
    on_delta: Callable[[str], None] | None = None,
) -> BrainReply:
    """One brain call within the run's budgets; raises LimitReached when one is spent."""
    limits = run.limits
    if run.brain_calls >= limits.max_brain_calls:
        raise LimitReached(
            "brain_calls",
            limits.max_brain_calls,
            run.brain_calls,
            f"the run used its {limits.max_brain_calls} brain calls",
        )
    remaining = check_wall(run)
    run.brain_calls += 1
    started = time.monotonic()
    try:
        reply = await asyncio.wait_for(ctx.brain.ask(brain_request, on_delta), remaining)
    except asyncio.TimeoutError as exc:
        raise LimitReached(
            "wall_s",
            limits.max_wall_s,
            round(run.elapsed(), 3),
            f"the run passed its wall-time limit of {limits.max_wall_s:g} s "
            "while waiting for the brain",
        ) from exc
    finally:
        run.brain_s += time.monotonic() - started
    _record(run, brain_request, reply, step, attempt, time.monotonic() - started)
    return reply


def _record(
    run: Run,
    brain_request: BrainRequest,
    reply: BrainReply,
    step: str | None,
    attempt: int,
    s: float,
) -> None:
    run.prompt_tokens += int(reply.prompt_tokens or 0)
    run.completion_tokens += int(reply.completion_tokens or 0)
    run.recorder.emit(
        "brain_call",
        task=brain_request.task,
        step=step,
        attempt=attempt,
        model=reply.model,
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        duration_s=round(s, 6),
        prompt_hash=reply.prompt_hash,
    )
    if run.tokens > run.limits.max_tokens:
        raise LimitReached(
            "tokens",
            run.limits.max_tokens,
            run.tokens,
            f"the run used {run.tokens} tokens, over its limit of {run.limits.max_tokens}",
        )


def check_wall(run: Run) -> float:
    """Seconds left of the run's wall-time budget; raises LimitReached when it is spent."""
    remaining = run.limits.max_wall_s - run.elapsed()
    if remaining <= 0:
        raise LimitReached(
            "wall_s",
            run.limits.max_wall_s,
            round(run.elapsed(), 3),
            f"the run passed its wall-time limit of {run.limits.max_wall_s:g} s",
        )
    return remaining


def execution_timeout(run: Run, step_timeout: float) -> float:
    return max(0.001, min(step_timeout, check_wall(run)))


def emit_error(run: Run, stage: str, message: str, **extra: Any) -> None:
    payload = {"step": None, "attempt": None, **extra}
    run.recorder.emit("error", stage=stage, message=message, **payload)
