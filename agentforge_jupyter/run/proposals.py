"""Reusable functions the brain proposes from a finished run's code: verified like any tool
(lint + doctests in a fresh sandbox), reported as `tool_proposal` events, stored on accept.

One brain call at the end of the run covers every successful step. The offline brain is the
exception: it proposes per step (it reads `request.step`), and its calls cost nothing.
Nothing here can fail the run: a bad proposal, a brain error or a spent budget is reported
and dropped."""

from __future__ import annotations

import re
from typing import Any

from ..brains.errors import BrainError
from ..brains.plan_parsing import extract_code_blocks
from ..errors import AgentForgeError
from ..state import StateDir
from . import gateway
from .errors import AgentError, LimitReached
from .options import RunContext
from .records import Run, StepRecord, ToolProposal

__all__ = ["NO_TOOL", "accept_proposal", "propose_tools"]

NO_TOOL = "NO_TOOL"


async def propose_tools(ctx: RunContext, run: Run, state: StateDir) -> None:
    options = ctx.options
    done = [s for s in run.steps if s.status == "ok"]
    if not options.propose_tools or not options.max_proposals or not done:
        return
    per_step = getattr(ctx.brain, "kind", "") == "offline"
    for record in done if per_step else [None]:
        if len(run.tool_proposals) >= options.max_proposals:
            return
        sources = await _ask(ctx, run, record, done)
        if sources is None:
            return
        for source in sources[: options.max_proposals - len(run.tool_proposals)]:
            await _verify(ctx, run, state, source, record.step.id if record else None)


async def _ask(
    ctx: RunContext, run: Run, record: StepRecord | None, done: list[StepRecord]
) -> list[str] | None:
    """The function sources in the brain's reply ([] for NO_TOOL); None when the brain
    failed or a budget is spent (reported as an `error` event)."""
    if record is not None:
        request = gateway.request(ctx, run, "tool", step=record.step, previous_code=record.code)
    else:
        code = "\n\n".join(f"# {s.step.id}: {s.step.title}\n{s.code}" for s in done)
        request = gateway.request(ctx, run, "tool", previous_code=code)
    step_id = record.step.id if record else None
    try:
        reply = await gateway.ask(ctx, run, request, step=step_id, attempt=0)
    except (BrainError, LimitReached) as exc:
        gateway.emit_error(run, "tool", f"no tool proposal: {exc}", step=step_id)
        return None
    if NO_TOOL in reply.text and "```" not in reply.text:
        return []
    return extract_code_blocks(reply.text)


async def _verify(
    ctx: RunContext, run: Run, state: StateDir, source: str, step_id: str | None
) -> None:
    from ..tools import ToolRegistry

    registry = ToolRegistry(state)
    try:
        candidate = registry.prepare(source)
        report = await registry.averify(candidate)
    except AgentForgeError as exc:  # ToolError, or a sandbox that could not verify it
        proposal = ToolProposal(_proposed_name(source), source, step_id, False, str(exc))
    else:
        proposal = ToolProposal(
            candidate.name,
            source,
            step_id,
            report.passed,
            "" if report.passed else report.describe(),
            candidate=candidate,
            report=report,
        )
    run.tool_proposals.append(proposal)
    run.recorder.emit("tool_proposal", **proposal.to_dict())
    if ctx.options.auto_register and proposal.verified:
        accept_proposal(run, proposal.name, registry=registry)


def accept_proposal(run: Run, name: str, *, registry: Any = None) -> str:
    """Store a verified proposal of `run` in the registry; returns "name@version"."""
    from ..tools import ToolRegistry, run_provenance

    proposal = next((p for p in run.tool_proposals if p.name == name), None)
    if proposal is None:
        raise AgentError(f"run {run.run_id} has no tool proposal named {name!r}")
    if not proposal.verified:
        raise AgentError(
            f"tool {name!r} failed verification and cannot be registered: {proposal.problem}"
        )
    if not proposal.stored:
        if registry is None:
            if run.state_root is None:
                raise AgentError(f"run {run.run_id} does not know its state directory")
            registry = ToolRegistry(StateDir(run.state_root))
        tool = registry.store_verified(
            proposal.candidate, proposal.report, provenance=run_provenance(run.run_id, run.brain)
        )
        proposal.stored = tool.ref
        if not run.recorder.closed:  # accepted later, from a finished run's display
            run.recorder.emit("tool_registered", name=tool.name, version=tool.version)
    return proposal.stored


def _proposed_name(source: str) -> str:
    match = re.search(r"^def\s+([A-Za-z_]\w*)", source, re.MULTILINE)
    return match.group(1) if match else "(unnamed)"
