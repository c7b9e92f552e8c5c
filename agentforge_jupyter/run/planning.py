"""The plan: asked of the brain (streamed as `plan_delta`), parsed, and retried once with the
parse error. The model gets the model-facing instruction; the user gets what went wrong and
what to try."""

from __future__ import annotations

from ..brains.base import Plan
from ..brains.errors import BrainReplyError, PlanParseError
from ..brains.plan_parsing import parse_plan
from . import gateway
from .errors import RunFailed
from .options import RunContext
from .records import Run
from .text import cap

__all__ = ["PLAN_ATTEMPTS", "ask_plan", "plan_advice"]

PLAN_ATTEMPTS = 2  # the first reply and one retry with the parse error


def plan_advice(brain_kind: str) -> str:
    """What a user can do about a brain whose plans do not parse."""
    return (
        "Try a stronger model, or register the brain with JSON mode (--json-schema, for "
        "endpoints that support response_format json_schema such as vLLM and OpenAI)"
        if brain_kind not in ("offline", "")
        else "Try another brain"
    )


def _problem(exc: BrainReplyError) -> str:
    return exc.problem if isinstance(exc, PlanParseError) and exc.problem else str(exc)


async def ask_plan(ctx: RunContext, run: Run) -> Plan:
    request = gateway.request(ctx, run, "plan")
    problem = ""
    for attempt in range(PLAN_ATTEMPTS):

        def delta(text: str, attempt: int = attempt) -> None:
            run.recorder.emit("plan_delta", text=text, attempt=attempt)

        text = ""
        try:
            # An empty or malformed reply is the model's failure too: it gets the retry.
            reply = await gateway.ask(ctx, run, request, step=None, attempt=attempt, on_delta=delta)
            text = reply.text
            plan = parse_plan(text, run.goal)
        except BrainReplyError as exc:  # includes PlanParseError
            problem = _problem(exc)
            last = attempt == PLAN_ATTEMPTS - 1
            gateway.emit_error(
                run,
                "plan",
                f"the brain's plan could not be used: {problem}"
                + ("" if last else "; asking the brain once more"),
                attempt=attempt,
                reply=cap(text, 2000),
            )
            request = gateway.request(ctx, run, "plan", previous_code=text, error=str(exc))
            continue
        run.recorder.emit("plan", plan=plan.to_dict(), attempt=attempt, source="brain")
        return plan
    raise RunFailed(
        "plan",
        f"the brain's plan could not be used after one retry ({problem}). "
        f"{plan_advice(run.brain_kind)}.",
    )
