"""One plan step: code from the brain -> extract -> lint -> sandbox -> observation, with the
failures (no code block, lint errors, exceptions, timeouts) sent back as repair requests."""

from __future__ import annotations

import time

from ..brains.base import BrainRequest, Observation, PlanStep
from ..brains.errors import BrainReplyError
from ..brains.plan_parsing import extract_code
from ..brains.prompts import MAX_OBSERVATION_CHARS
from ..lint import format_findings, has_errors, lint
from ..sandbox.result import ExecutionResult
from . import gateway
from .errors import RunFailed
from .options import RunContext
from .records import Attempt, Run, StepRecord
from .text import cap, failure_text, observation_text

__all__ = ["observe", "run_step"]


async def run_step(ctx: RunContext, run: Run, index: int, step: PlanStep, total: int) -> None:
    record = StepRecord(step=step, index=index)
    run.steps.append(record)
    run.recorder.emit("step_start", step=step.to_dict(), index=index, total=total)
    started = time.monotonic()
    try:
        await _attempts(ctx, run, record)
    finally:
        record.duration_s = time.monotonic() - started
    record.observation = observe(record)
    run.recorder.emit(
        "observation",
        step=step.id,
        status=record.observation.status,
        output=record.observation.output,
    )
    run.recorder.emit(
        "step_end",
        step=step.id,
        status=record.status,
        attempts=len(record.attempts),
        repairs=record.repairs,
        duration_s=round(record.duration_s, 6),
    )


async def _attempts(ctx: RunContext, run: Run, record: StepRecord) -> None:
    step = record.step
    repairs = ctx.options.repairs
    text = await _code_reply(ctx, run, gateway.request(ctx, run, "code", step=step), step.id, 0)
    attempt = 0
    while True:
        current = await _attempt(ctx, run, record, text, attempt, will_repair=attempt < repairs)
        if current.ok:
            record.status = "ok"
            return
        if attempt >= repairs:
            record.status = "failed"
            return
        attempt += 1
        assert current.error is not None
        run.recorder.emit(
            "repair", step=step.id, attempt=attempt, reason=current.failure, error=current.error
        )
        request = gateway.request(
            ctx, run, "repair", step=step, previous_code=current.code, error=current.error
        )
        text = await _code_reply(ctx, run, request, step.id, attempt)


async def _code_reply(
    ctx: RunContext, run: Run, request: BrainRequest, step_id: str, attempt: int
) -> str | BrainReplyError:
    """The reply text, or the BrainReplyError of an empty/malformed reply (which, like
    unparsable code, goes back to the brain as a repair)."""
    try:
        return (await gateway.ask(ctx, run, request, step=step_id, attempt=attempt)).text
    except BrainReplyError as exc:
        return exc


async def _attempt(
    ctx: RunContext,
    run: Run,
    record: StepRecord,
    text: str | BrainReplyError,
    attempt: int,
    *,
    will_repair: bool,
) -> Attempt:
    step_id = record.step.id
    where = {"step": step_id, "attempt": attempt, "will_repair": will_repair}
    try:
        if isinstance(text, BrainReplyError):
            raise text
        code = extract_code(text)
    except BrainReplyError as exc:  # includes CodeParseError
        current = Attempt(attempt, "", failure="parse", error=str(exc))
        record.attempts.append(current)
        gateway.emit_error(run, "code", str(exc), **where)
        return current
    current = Attempt(attempt, code)
    record.attempts.append(current)
    run.recorder.emit("code", step=step_id, attempt=attempt, code=code)
    if not _lint(ctx, run, current, where):
        return current
    timeout = gateway.execution_timeout(run, ctx.options.step_timeout)
    result = await _execute(ctx, run, code, timeout)
    current.result = result
    _emit_result(run, step_id, attempt, result)
    if not result.ok:
        _failed_execution(ctx, run, current, timeout, where)
    return current


def _lint(ctx: RunContext, run: Run, current: Attempt, where: dict[str, object]) -> bool:
    """Lint the attempt's code; False (and the error recorded) when an error blocks it."""
    findings = lint(current.code, ctx.options.lint_policy)
    current.findings = [f.to_dict() for f in findings]
    blocked = has_errors(findings)
    run.recorder.emit("lint", ok=not blocked, findings=current.findings, **where)
    if blocked:
        current.failure = "lint"
        current.error = (
            "The linter rejected the code, so it was not run. Fix every error below:\n"
            + format_findings(findings)
        )
        gateway.emit_error(run, "lint", current.error, **where)
    return not blocked


def _failed_execution(
    ctx: RunContext, run: Run, current: Attempt, timeout: float, where: dict[str, object]
) -> None:
    result = current.result
    assert result is not None
    current.failure = result.status
    variable = run.dataset.variable if run.dataset else None
    current.error = failure_text(result, timeout, variable)
    if result.status == "timeout" and timeout < ctx.options.step_timeout:
        gateway.check_wall(run)  # the run's wall-time budget cut this execution short
    error = result.error
    gateway.emit_error(
        run,
        "execute",
        current.error,
        status=result.status,
        name=error.name if error else None,
        value=error.value if error else None,
        traceback=list(error.traceback) if error else [],
        **where,
    )


async def _execute(ctx: RunContext, run: Run, code: str, timeout: float) -> ExecutionResult:
    sandbox = ctx.session.sandbox
    if sandbox is None:
        raise RunFailed("sandbox", "the sandbox is not running")
    result = await sandbox.execute(code, timeout=timeout)
    run.exec_s += result.duration_s
    return result


def _emit_result(run: Run, step_id: str, attempt: int, result: ExecutionResult) -> None:
    emit = run.recorder.emit
    for name in ("stdout", "stderr"):
        text = getattr(result, name)
        if text:
            emit("output", step=step_id, attempt=attempt, kind="stream", name=name, text=text)
    for display in result.displays:
        emit(
            "output",
            step=step_id,
            attempt=attempt,
            kind="display",
            mime=display.mime,
            data=display.data,
        )
    emit(
        "execution",
        step=step_id,
        attempt=attempt,
        status=result.status,
        duration_s=round(result.duration_s, 6),
        state_lost=result.state_lost,
        notes=list(result.notes),
    )
    if result.state_lost:
        emit(
            "state_lost",
            step=step_id,
            message="The sandbox kernel was restarted: variables from earlier steps are "
            "gone" + (" (the dataset was loaded again)" if run.dataset else "") + ".",
            notes=list(result.notes),
        )


def observe(record: StepRecord) -> Observation:
    """What the brain (and the insights) learn from a step: its last attempt, capped."""
    last = record.attempts[-1] if record.attempts else None
    if last is None:
        output, status = "(no code was produced)", "failed"
    elif last.result is not None:
        output = observation_text(last.result)
        status = record.status if record.status == "ok" else last.result.status
    else:
        output = cap(last.error or "(not run)", MAX_OBSERVATION_CHARS)
        status = last.failure or "failed"
    if last is not None and last.result is not None and last.result.state_lost:
        output += "\n[the kernel was restarted during this step: earlier variables are gone]"
    return Observation(
        step_id=record.step.id,
        title=record.step.title,
        code=last.code if last else "",
        status=status,
        output=output,
    )
