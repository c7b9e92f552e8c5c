"""The agent loop: a goal in; a plan, linted and sandboxed code, outputs and insights out.

    plan (brain "plan", parsed; one retry with the parse error)
    for each step: brain "code" -> extract -> lint -> sandbox -> observation
                   (lint findings, tracebacks, timeouts go back to the brain as "repair")
    insights (brain "insights", from the observations only)

Everything that happens is an event (events.py), persisted before front ends see it. Errors the
model caused (unparsable replies, lint findings, exceptions in its code) go back to the model;
transport, sandbox and dataset failures end the run as failed with a clear reason; bugs in
AgentForge itself raise (after the run is recorded as failed).

Async-first (`Agent.arun`); the sync `Agent.run` hands the coroutine to AgentForge's background
event loop thread (agentforge_jupyter._loop), so it works inside a running loop (a Jupyter
kernel) and delivers events to `on_event` in the calling thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._loop import background_loop
from ._version import __version__
from .brains.base import Brain, BrainReply, BrainRequest, Observation, Plan, PlanStep
from .brains.errors import BrainError, BrainReplyError
from .brains.plan_parsing import extract_code, parse_plan
from .errors import AgentForgeError, DatasetError, SandboxError
from .events import Event, RunRecorder, new_run_id
from .lint import LintPolicy, format_findings, has_errors, lint
from .sandbox.outputs import table_to_text
from .sandbox.result import PNG, TABLE, TEXT, ExecutionResult
from .state import StateDir, atomic_write_bytes

if TYPE_CHECKING:
    import pandas as pd

    from .datasets import DatasetRegistry
    from .sandbox.kernel import KernelSandbox

__all__ = [
    "Agent",
    "AgentError",
    "AgentSession",
    "Attempt",
    "DatasetRef",
    "Run",
    "RunLimits",
    "StepRecord",
    "load_run",
    "observation_text",
    "split_insights",
]

MAX_OBSERVATION_CHARS = 4_000
MAX_ERROR_CHARS = 4_000
DEFAULT_VARIABLE = "df"
RUN_FILE = "run.json"
INPUT_FRAME_FILE = "input.parquet"
_CANCEL_SETTLE_S = 5.0

log = logging.getLogger(__name__)


class AgentError(AgentForgeError):
    """The agent was used wrongly (bad arguments, a session bound to another event loop)."""


# --------------------------------------------------------------------------- data


@dataclass
class RunLimits:
    """Per-run budgets. Reaching one ends the run with status "limit" and says which."""

    max_steps: int = 10
    max_brain_calls: int = 60
    max_tokens: int = 400_000
    max_wall_s: float = 1800.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value is None or value <= 0:
                raise AgentError(f"RunLimits.{name} must be positive, not {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DatasetRef:
    """Which data a run analysed: a registered dataset, or a DataFrame saved with the run."""

    name: str
    path: str | None = None  # absolute host path of the file the sandbox loaded
    format: str | None = None
    variable: str = DEFAULT_VARIABLE
    sha256: str | None = None
    rows: int | None = None
    columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Attempt:
    """One try at a step: the code, what the linter said, and what the sandbox did."""

    attempt: int  # 0 for the first code, n for the n-th repair
    code: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    result: ExecutionResult | None = None  # None when the code was not run
    failure: str | None = None  # "parse", "lint", or the execution status when not ok
    error: str | None = None  # the text sent back to the brain

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "code": self.code,
            "findings": self.findings,
            "result": self.result.to_dict() if self.result else None,
            "failure": self.failure,
            "error": self.error,
        }


@dataclass
class StepRecord:
    """A plan step as executed. `status`: pending, ok, failed, cancelled or limit."""

    step: PlanStep
    index: int
    status: str = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    observation: Observation | None = None
    duration_s: float = 0.0

    @property
    def code(self) -> str:
        return self.attempts[-1].code if self.attempts else ""

    @property
    def result(self) -> ExecutionResult | None:
        return self.attempts[-1].result if self.attempts else None

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self.attempts[-1].findings if self.attempts else []

    @property
    def repairs(self) -> int:
        return max(0, len(self.attempts) - 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step.to_dict(),
            "index": self.index,
            "status": self.status,
            "attempts": [a.to_dict() for a in self.attempts],
            "observation": self.observation.to_dict() if self.observation else None,
            "duration_s": round(self.duration_s, 6),
        }


@dataclass
class Run:
    """One goal, end to end. `status`: running, ok, failed, cancelled or limit."""

    run_id: str
    goal: str
    recorder: RunRecorder
    brain: str = ""
    brain_kind: str = ""
    model: str = ""
    dataset: DatasetRef | None = None
    session_id: str = ""
    run_dir: Path | None = None
    status: str = "running"
    reason: str = ""
    plan: Plan | None = None
    steps: list[StepRecord] = field(default_factory=list)
    insights: list[str] = field(default_factory=list)
    insights_text: str = ""
    started: float = 0.0  # Unix time
    ended: float | None = None
    duration_s: float = 0.0
    brain_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    brain_s: float = 0.0  # time spent waiting for the brain
    exec_s: float = 0.0  # time the sandbox spent executing step code
    isolation: str = ""
    tools: list[dict[str, Any]] = field(default_factory=list)  # shown to the brain this run
    tool_proposals: list[ToolProposal] = field(default_factory=list)
    limits: RunLimits = field(default_factory=RunLimits)
    _t0: float = 0.0  # monotonic start

    @property
    def events(self) -> list[Event]:
        return self.recorder.events

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def done(self) -> bool:
        return self.status != "running"

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def observations(self) -> list[Observation]:
        return [s.observation for s in self.steps if s.observation is not None]

    @property
    def prompt_hashes(self) -> list[str]:
        return [str(e.get("prompt_hash")) for e in self.events if e.type == "brain_call"]

    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def __repr__(self) -> str:
        return (
            f"Run({self.run_id!r}, status={self.status!r}, steps={len(self.steps)}, "
            f"insights={len(self.insights)})"
        )

    def to_dict(self, *, include_events: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "run_id": self.run_id,
            "goal": self.goal,
            "status": self.status,
            "reason": self.reason,
            "brain": self.brain,
            "brain_kind": self.brain_kind,
            "model": self.model,
            "dataset": self.dataset.to_dict() if self.dataset else None,
            "session_id": self.session_id,
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "plan": self.plan.to_dict() if self.plan else None,
            "steps": [s.to_dict() for s in self.steps],
            "insights": list(self.insights),
            "insights_text": self.insights_text,
            "started": self.started,
            "ended": self.ended,
            "duration_s": round(self.duration_s, 6),
            "brain_calls": self.brain_calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "brain_s": round(self.brain_s, 6),
            "exec_s": round(self.exec_s, 6),
            "isolation": self.isolation,
            "limits": self.limits.to_dict(),
            "agentforge_version": __version__,
        }
        if include_events:
            data["events"] = [e.to_dict() for e in self.events]
        return data


def load_run(run_dir: str | Path) -> Run:
    """A finished run read back from its directory (`run.json` and `events.jsonl`), e.g. to
    export it again. Raises AgentError when the run has no summary (it never finished)."""
    from .events import read_events

    directory = Path(run_dir)
    summary = directory / RUN_FILE
    try:
        data = json.loads(summary.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AgentError(
            f"{directory} has no {RUN_FILE}: the run did not finish (its events are in "
            "events.jsonl)"
        ) from exc
    except ValueError as exc:
        raise AgentError(f"{summary} is not valid JSON: {exc}") from exc
    recorder = RunRecorder(data["run_id"])
    recorder.events = read_events(directory)
    recorder.closed = True
    dataset = data.get("dataset")
    return Run(
        run_id=data["run_id"],
        goal=data["goal"],
        recorder=recorder,
        brain=data.get("brain", ""),
        brain_kind=data.get("brain_kind", ""),
        model=data.get("model", ""),
        dataset=DatasetRef(**dataset) if dataset else None,
        session_id=data.get("session_id", ""),
        run_dir=directory,
        status=data["status"],
        reason=data.get("reason", ""),
        plan=Plan.from_dict(data["plan"]) if data.get("plan") else None,
        steps=[_step_from_dict(s) for s in data.get("steps", [])],
        insights=list(data.get("insights", [])),
        insights_text=data.get("insights_text", ""),
        started=float(data.get("started") or 0.0),
        ended=data.get("ended"),
        duration_s=float(data.get("duration_s") or 0.0),
        brain_calls=int(data.get("brain_calls") or 0),
        prompt_tokens=int(data.get("prompt_tokens") or 0),
        completion_tokens=int(data.get("completion_tokens") or 0),
        brain_s=float(data.get("brain_s") or 0.0),
        exec_s=float(data.get("exec_s") or 0.0),
        isolation=data.get("isolation", ""),
        limits=RunLimits(**data["limits"]) if data.get("limits") else RunLimits(),
    )


def _step_from_dict(data: dict[str, Any]) -> StepRecord:
    observation = data.get("observation")
    return StepRecord(
        step=PlanStep(**data["step"]),
        index=int(data["index"]),
        status=data["status"],
        attempts=[
            Attempt(
                attempt=int(a["attempt"]),
                code=a.get("code", ""),
                findings=list(a.get("findings", [])),
                result=ExecutionResult.from_dict(a["result"]) if a.get("result") else None,
                failure=a.get("failure"),
                error=a.get("error"),
            )
            for a in data.get("attempts", [])
        ],
        observation=Observation(**observation) if observation else None,
        duration_s=float(data.get("duration_s") or 0.0),
    )


# --------------------------------------------------------------------------- text helpers


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... [{len(text) - limit} more chars]"


def _tail(text: str, limit: int) -> str:
    return (
        text if len(text) <= limit else f"[{len(text) - limit} chars before]...\n" + text[-limit:]
    )


def observation_text(result: ExecutionResult, max_chars: int = MAX_OBSERVATION_CHARS) -> str:
    """What a step showed, as capped text for the brain: stdout, text displays, tables as short
    fixed-width text, "[chart]" for images, then warnings, errors and sandbox notes."""
    parts: list[str] = []
    if result.stdout.strip():
        parts.append(result.stdout.rstrip())
    for display in result.displays:
        if display.mime == PNG:
            parts.append("[chart]")
        elif display.mime == TABLE and isinstance(display.data, dict):
            parts.append(table_to_text(display.data, max_rows=20))
        elif display.mime == TEXT:
            parts.append(str(display.data).rstrip())
    if result.stderr.strip():
        parts.append("stderr:\n" + _tail(result.stderr.rstrip(), 600))
    if result.error is not None:
        parts.append(f"{result.error.name}: {result.error.value}")
    if result.notes:
        parts.append("notes: " + "; ".join(result.notes))
    return _cap("\n".join(parts), max_chars) if parts else "(no output)"


def failure_text(result: ExecutionResult, timeout: float, variable: str | None) -> str:
    """What went wrong in an execution, written for the model that has to fix it."""
    lines: list[str] = []
    if result.status == "timeout":
        lines.append(
            f"The code did not finish within the {timeout:g} s time limit and was interrupted. "
            "Make it faster: aggregate before plotting, avoid row-by-row Python loops."
        )
    elif result.status == "crashed":
        lines.append("The sandbox kernel crashed while running the code.")
    elif result.status == "limit":
        lines.append("The code hit a resource limit of the sandbox (memory, CPU, file size).")
    if result.error is not None:
        traceback = "\n".join(result.error.traceback).strip()
        if traceback:
            lines.append(_tail(traceback, MAX_ERROR_CHARS))
        lines.append(f"{result.error.name}: {result.error.value}")
    if result.stdout.strip():
        lines.append("Printed before the failure:\n" + _tail(result.stdout.rstrip(), 1_000))
    if result.notes:
        lines.append("Sandbox notes: " + "; ".join(result.notes))
    if result.state_lost:
        reloaded = f" (the dataset `{variable}` was loaded again)" if variable else ""
        lines.append(
            "The kernel was restarted: every variable from earlier steps is gone"
            f"{reloaded}. Recompute anything you need in this step's code."
        )
    return "\n".join(lines)


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_HEADING = re.compile(r"^\s*(?:#+\s*|\*\*)(?P<text>.+?)(?:\*\*)?:?\s*$")


def split_insights(text: str) -> list[str]:
    """Insight markdown as a list: each bullet is one insight (prefixed by the bold heading
    or `#` heading above it, if any); a prose paragraph is one insight."""
    insights: list[str] = []
    heading = ""
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.rstrip() for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        heading = ""
        paragraph: list[str] = []
        for line in lines:
            if _BULLET.match(line):
                item = _BULLET.sub("", line, count=1).strip()
                insights.append(f"{heading}: {item}" if heading else item)
            elif insights and line.startswith((" ", "\t")) and not paragraph:
                insights[-1] += " " + line.strip()  # a bullet's continuation line
            elif (match := _HEADING.match(line)) and len(lines) > 1 and not paragraph:
                heading = match.group("text").strip().rstrip(":")
            else:
                paragraph.append(line.strip())
        if paragraph:
            insights.append(" ".join(paragraph))
    return insights


# --------------------------------------------------------------------------- control flow


class _LimitReached(Exception):
    def __init__(self, kind: str, limit: float, used: float, message: str) -> None:
        super().__init__(message)
        self.kind, self.limit, self.used, self.message = kind, limit, used, message


class _RunFailed(Exception):
    """Ends the run as failed with a message for the user (environment, not a bug)."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message


# --------------------------------------------------------------------------- session


@dataclass
class ToolProposal:
    """A function the brain proposed after a step, and how its verification went."""

    name: str
    code: str
    step: str
    verified: bool
    problem: str = ""
    stored: str = ""  # "name@version" once registered
    candidate: Any = None
    report: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "code": self.code,
            "step": self.step,
            "verified": self.verified,
            "problem": self.problem,
            "stored": self.stored,
        }


def accept_proposal(run: Run, name: str, *, registry: Any = None) -> str:
    """Store a verified proposal of `run` in the registry; returns "name@version"."""
    from .tools import ToolRegistry, run_provenance

    proposal = next((p for p in run.tool_proposals if p.name == name), None)
    if proposal is None:
        raise AgentError(f"run {run.run_id} has no tool proposal named {name!r}")
    if not proposal.verified:
        raise AgentError(
            f"tool {name!r} failed verification and cannot be registered: {proposal.problem}"
        )
    if not proposal.stored:
        registry = registry or ToolRegistry(StateDir(Path(run.run_dir).parents[1]))
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


def _tools_package(state: StateDir) -> Path | None:
    """Write the verified tools as the `agentforge_tools` package the sandbox mounts."""
    if not state.tools_json.exists():
        return None
    from .tools import ToolError, ToolRegistry, write_tools_package

    dest = state.root / "sandbox_tools"
    try:
        write_tools_package(ToolRegistry(state), dest)
    except (ToolError, AgentForgeError, OSError) as exc:
        log.warning("tools not mounted in the sandbox: %s", exc)
        return None
    return dest


class AgentSession:
    """One sandbox kernel and the history of the runs in it, shared by follow-up runs.

    Consecutive runs of the same session see the earlier runs' goals, plans and observations
    (BrainRequest.history), and the variables they left in the kernel. A sandbox passed in is
    used as-is and left running on close; one the session starts is shut down on close.
    """

    def __init__(
        self,
        sandbox: KernelSandbox | None = None,
        *,
        sandbox_settings: dict[str, Any] | None = None,
        state: StateDir | None = None,
    ) -> None:
        self.session_id = new_run_id()
        self.state = state if state is not None else StateDir()
        self.sandbox = sandbox
        self.owns_sandbox = sandbox is None
        self.sandbox_settings = dict(sandbox_settings or {})
        self.history: list[dict[str, Any]] = []
        self.runs: list[Run] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._loaded: dict[str, str] = {}  # variable -> what was loaded into it
        self._start_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"AgentSession({self.session_id!r}, runs={len(self.runs)})"

    def bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is None or self.loop.is_closed():
            self.loop = loop
            self._start_lock = asyncio.Lock()
        elif self.loop is not loop:
            raise AgentError(
                "This session's sandbox belongs to another event loop. Use either the sync API "
                "(run/plan/execute) or the async one (arun/aplan/aexecute) with one session, or "
                "start a new session (Agent.new_session())."
            )

    async def ensure_sandbox(self) -> KernelSandbox:
        """The session's sandbox, started (with the state's data/ mounted) if it is not."""
        self.bind_loop()
        assert self._start_lock is not None
        async with self._start_lock:
            if self.sandbox is None:
                from .sandbox.kernel import KernelSandbox

                settings = {"datasets_dir": str(self.state.data_dir), **self.sandbox_settings}
                tools_dir = _tools_package(self.state)
                if tools_dir is not None:
                    settings.setdefault("tools_dir", str(tools_dir))
                self.sandbox = KernelSandbox(**settings)
                self.owns_sandbox = True
            if not self.sandbox.started:
                await self.sandbox.start()
        return self.sandbox

    async def load(self, ref: DatasetRef, frame: pd.DataFrame | None = None) -> None:
        """Put the run's data into the sandbox as `ref.variable`, unless it is already there."""
        sandbox = await self.ensure_sandbox()
        # The same DataFrame object is sent once per session, a registered file once per hash.
        key = f"frame:{id(frame)}" if frame is not None else f"{ref.name}:{ref.sha256}:{ref.path}"
        if self._loaded.get(ref.variable) == key:
            return
        mounted = Path(sandbox.config.datasets_dir or "/nonexistent").resolve()
        path = Path(ref.path) if ref.path else None
        if frame is not None:
            await sandbox.put_dataframe(frame, ref.variable)
        elif path is not None and path.parent.resolve() == mounted and ref.format:
            await sandbox.load_dataset(path.name, ref.format, ref.variable)
        elif path is not None and ref.format:
            from .datasets import read_table

            await sandbox.put_dataframe(read_table(path, ref.format), ref.variable)
        else:
            raise AgentError(f"dataset {ref.name!r} has no file to load")
        self._loaded[ref.variable] = key

    def remember(self, run: Run) -> None:
        self.runs.append(run)
        if run.plan is None:
            return
        self.history.append(
            {
                "run_id": run.run_id,
                "goal": run.goal,
                "plan": run.plan.to_dict(),
                "observations": [o.to_dict() for o in run.observations],
            }
        )

    async def aclose(self) -> None:
        if self.sandbox is not None and self.owns_sandbox:
            await self.sandbox.shutdown()
        if self.owns_sandbox:
            self.sandbox = None
        self._loaded.clear()


# --------------------------------------------------------------------------- agent


class Agent:
    """Plans, writes, lints, runs and repairs analysis code for a goal, in a sandbox.

        agent = Agent(brain=OfflineBrain(), dataset="sales_q3")
        run = agent.run("which region drove Q3 revenue?")   # or: await agent.arun(...)
        run.status, run.insights, run.steps[0].code

    `brain`: a Brain, a registered brain name, or None for the default brain. `dataset`: a
    registered dataset name, a pandas DataFrame (sent to the sandbox as Parquet), or None.
    `repairs`: repair requests allowed per step (lint and runtime failures share the budget).
    """

    def __init__(
        self,
        brain: Brain | str | None = None,
        dataset: str | pd.DataFrame | None = None,
        *,
        sandbox: KernelSandbox | None = None,
        session: AgentSession | None = None,
        state: StateDir | str | None = None,
        registry: DatasetRegistry | None = None,
        limits: RunLimits | None = None,
        repairs: int = 2,
        step_timeout: float = 60.0,
        lint_policy: LintPolicy | None = None,
        variable: str = DEFAULT_VARIABLE,
        tools: list[dict[str, Any]] | None = None,
        sandbox_settings: dict[str, Any] | None = None,
        on_event: Callable[[Event], None] | None = None,
        propose_tools: bool = False,
        auto_register: bool = False,
        max_proposals: int = 3,
    ) -> None:
        if repairs < 0:
            raise AgentError(f"repairs must be 0 or more, not {repairs}")
        if step_timeout <= 0:
            raise AgentError(f"step_timeout must be positive, not {step_timeout}")
        if not variable.isidentifier():
            raise AgentError(f"variable {variable!r} is not a valid Python name")
        if session is not None and sandbox is not None:
            raise AgentError("pass either a sandbox or a session (which has its own sandbox)")
        if registry is not None:
            self.state = registry.store
        elif isinstance(state, StateDir):
            self.state = state
        else:
            self.state = StateDir(state)
        self._registry = registry
        self.brain: Brain = self._resolve_brain(brain)
        self.dataset = dataset
        self.limits = limits or RunLimits()
        self.repairs = repairs
        self.step_timeout = float(step_timeout)
        self.lint_policy = lint_policy
        self.variable = variable
        self.tools = list(tools or [])
        # After a successful step the brain may propose a reusable tool (issue: tool registry).
        self.propose_tools = propose_tools or auto_register
        self.auto_register = auto_register
        self.max_proposals = max_proposals
        self.on_event = on_event
        self._sandbox_settings = dict(sandbox_settings or {})
        self.session = session or AgentSession(
            sandbox, sandbox_settings=self._sandbox_settings, state=self.state
        )
        self.last_run: Run | None = None
        self._pending: Run | None = None  # planned (review mode), not yet executed
        self._profile: tuple[Any, dict[str, Any]] | None = None
        self._active: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None
        self._cancel_requested = False
        self._prepare_task: asyncio.Future[None] | None = None
        if isinstance(dataset, str):
            try:
                self.registry.get(dataset)
            except DatasetError as exc:
                raise AgentError(str(exc)) from exc

    def __repr__(self) -> str:
        name = getattr(self.brain, "name", type(self.brain).__name__)
        return f"Agent(brain={name!r}, dataset={self._dataset_label()!r})"

    # ----- configuration ---------------------------------------------------------------
    def _resolve_brain(self, brain: Brain | str | None) -> Brain:
        if brain is not None and not isinstance(brain, str):
            if not hasattr(brain, "ask"):
                raise AgentError(f"{brain!r} is not a brain: it has no async ask(request) method")
            return brain
        from .brains.registry import BrainRegistry

        return BrainRegistry(self.state).get(brain)

    @property
    def registry(self) -> DatasetRegistry:
        if self._registry is None:
            from .datasets import DatasetRegistry

            self._registry = DatasetRegistry(self.state)
        return self._registry

    def _dataset_label(self) -> str | None:
        if self.dataset is None:
            return None
        return self.dataset if isinstance(self.dataset, str) else "dataframe"

    def new_session(self) -> AgentSession:
        """Forget earlier runs; the next run starts a fresh sandbox (the old one is closed)."""
        old = self.session
        self.session = AgentSession(sandbox_settings=self._sandbox_settings, state=self.state)
        if old.sandbox is not None and old.owns_sandbox:
            self._close_on(old)
        return self.session

    def _close_on(self, session: AgentSession) -> None:
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

    # ----- public API -------------------------------------------------------------------
    async def arun(self, goal: str, *, on_event: Callable[[Event], None] | None = None) -> Run:
        """Plan and execute `goal`; returns the finished Run (status ok/failed/limit/cancelled).

        Cancelling the awaiting task records the run as cancelled, interrupts the sandbox and
        re-raises CancelledError (the Run is in `agent.last_run`); `agent.cancel()` instead
        makes this return the cancelled Run."""
        self.session.bind_loop()  # refuse early, before a run is opened
        run = self._open_run(goal, on_event)
        return await self._drive(run, lambda: self._plan_and_execute(run))

    async def aplan(self, goal: str, *, on_event: Callable[[Event], None] | None = None) -> Plan:
        """Only the plan (review mode). The run stays open until `aexecute(plan)`."""
        self.session.bind_loop()  # refuse early, before a run is opened
        if self._pending is not None:
            self._abandon_pending("a new plan was requested")
        run = self._open_run(goal, on_event)
        await self._drive(run, lambda: self._make_plan(run), finish=False)
        if run.done:  # failed, cancelled or over a limit while planning
            raise AgentError(f"planning ended with status {run.status}: {run.reason}")
        assert run.plan is not None
        self._pending = run
        return Plan.from_dict(run.plan.to_dict())  # the caller may edit its copy

    async def aexecute(self, plan: Plan, *, on_event: Callable[[Event], None] | None = None) -> Run:
        """Execute a (possibly edited) plan: continues the run `aplan` opened, or opens one."""
        self.session.bind_loop()  # refuse early, before a run is opened
        if not plan.steps:
            raise AgentError("the plan has no steps; add at least one before executing it")
        run = self._pending
        self._pending = None
        if run is None or run.goal != plan.goal:
            if run is not None:
                self._finish(run, "cancelled", "the plan was replaced by another goal's plan")
            run = self._open_run(plan.goal, on_event)
        elif on_event is not None:
            run.recorder.subscribe(on_event)

        async def body() -> None:
            edited = run.plan is None or plan.to_dict() != run.plan.to_dict()
            if edited:
                run.plan = Plan.from_dict(plan.to_dict())
                run.recorder.emit("plan", plan=run.plan.to_dict(), attempt=0, source="user")
            await self._execute_plan(run)

        return await self._drive(run, body)

    def run(self, goal: str, *, on_event: Callable[[Event], None] | None = None) -> Run:
        """Blocking `arun`. Runs on AgentForge's background loop thread (so it works inside a
        running event loop, e.g. a notebook cell) and calls `on_event` in this thread.
        Ctrl-C cancels the run, waits for it to be recorded, then re-raises KeyboardInterrupt
        (the cancelled Run is `agent.last_run`)."""
        return self._call_sync(lambda cb: self.arun(goal, on_event=cb), on_event)

    def plan(self, goal: str, *, on_event: Callable[[Event], None] | None = None) -> Plan:
        """Blocking `aplan`."""
        return self._call_sync(lambda cb: self.aplan(goal, on_event=cb), on_event)

    def execute(self, plan: Plan, *, on_event: Callable[[Event], None] | None = None) -> Run:
        """Blocking `aexecute`."""
        return self._call_sync(lambda cb: self.aexecute(plan, on_event=cb), on_event)

    def cancel(self) -> bool:
        """Cancel the active run from any thread; True if one was running."""
        active = self._active
        if active is None:
            return False
        loop, task = active
        self._cancel_requested = True
        loop.call_soon_threadsafe(task.cancel)
        return True

    async def aclose(self) -> None:
        if self._pending is not None:
            self._abandon_pending("the agent was closed")
        await self.session.aclose()

    def close(self) -> None:
        if self.session.loop is None:
            if self._pending is not None:
                self._abandon_pending("the agent was closed")
            return
        self._close_on(self.session)

    async def __aenter__(self) -> Agent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- sync bridge ------------------------------------------------------------------
    def _call_sync(self, make: Callable[[Any], Awaitable[Any]], on_event: Any = None) -> Any:
        loop = background_loop()
        with contextlib.suppress(RuntimeError):
            if asyncio.get_running_loop() is loop:
                raise AgentError(
                    "the sync API cannot be called from AgentForge's own loop thread; await "
                    "arun/aplan/aexecute there instead"
                )
        inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        done = object()
        relay = inbox.put if on_event is not None else None

        async def call() -> Any:
            return await make(relay)

        future = asyncio.run_coroutine_threadsafe(call(), loop)
        future.add_done_callback(lambda _f: inbox.put(done))
        interrupted = False
        while True:
            # Ctrl-C can land anywhere in the pump, so the whole pump is retried.
            try:
                _pump(inbox, done, on_event, future)
                break
            except KeyboardInterrupt:
                interrupted = True
                if not self.cancel():
                    future.cancel()
        if interrupted:
            raise KeyboardInterrupt
        return future.result()

    # ----- run life cycle ---------------------------------------------------------------
    def _open_run(self, goal: str, on_event: Callable[[Event], None] | None) -> Run:
        if not goal or not goal.strip():
            raise AgentError("the goal is empty; say what you want to find out")
        if self._pending is not None:
            self._abandon_pending("another goal was started")
        run_id = new_run_id()
        run_dir = self.state.run_dir(run_id)
        recorder = RunRecorder(run_id, run_dir)
        for callback in (self.on_event, on_event):
            if callback is not None:
                recorder.subscribe(callback)
        run = Run(
            run_id=run_id,
            goal=goal.strip(),
            recorder=recorder,
            brain=str(getattr(self.brain, "name", type(self.brain).__name__)),
            brain_kind=str(getattr(self.brain, "kind", "")),
            model=str(getattr(self.brain, "model", "")),
            session_id=self.session.session_id,
            run_dir=run_dir,
            started=time.time(),
            limits=self.limits,
            _t0=time.monotonic(),
        )
        self.last_run = run
        return run

    async def _drive(
        self, run: Run, body: Callable[[], Awaitable[None]], *, finish: bool = True
    ) -> Run:
        self.session.bind_loop()
        if self._active is not None:
            raise AgentError("this agent is already running a goal; wait for it or cancel it")
        task = asyncio.current_task()
        assert task is not None
        self._active = (asyncio.get_running_loop(), task)
        self._cancel_requested = False
        try:
            if not run.recorder.events:
                await self._start(run)
            await body()
            if finish:
                self._finish(run, self._final_status(run), self._final_reason(run))
        except _LimitReached as stop:
            self._stop_steps(run, "limit")
            run.recorder.emit(
                "limit", kind=stop.kind, limit=stop.limit, used=stop.used, message=stop.message
            )
            self._finish(run, "limit", stop.message)
        except _RunFailed as failed:
            self._stop_steps(run, "failed")
            self._error(run, failed.stage, failed.message)
            self._finish(run, "failed", failed.message)
        except BrainError as exc:
            self._stop_steps(run, "failed")
            message = f"the brain {run.brain!r} failed: {exc}"
            self._error(run, "brain", message, name=type(exc).__name__)
            self._finish(run, "failed", message)
        except asyncio.CancelledError:
            await self._after_cancel(run)
            if not self._cancel_requested:
                raise
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+
            if uncancel is not None:
                uncancel()
        except BaseException as exc:
            # A bug in AgentForge (or KeyboardInterrupt in this thread): record, then raise.
            if not run.done:
                self._stop_steps(run, "failed")
                with contextlib.suppress(Exception):
                    self._finish(run, "failed", f"internal error: {type(exc).__name__}: {exc}")
            raise
        finally:
            self._active = None
            self._cancel_requested = False
        return run

    async def _start(self, run: Run) -> None:
        run.dataset = self._dataset_ref(run)
        run.recorder.emit(
            "run_start",
            goal=run.goal,
            dataset=run.dataset.to_dict() if run.dataset else None,
            brain=run.brain,
            brain_kind=run.brain_kind,
            model=run.model,
            limits=run.limits.to_dict(),
            session_id=run.session_id,
            repairs=self.repairs,
            step_timeout=self.step_timeout,
            follow_up=len(self.session.history),
            agentforge_version=__version__,
        )
        run.tools = list(self.tools) if self.tools else self._retrieve_tools(run)
        if run.tools:
            run.recorder.emit("tools", tools=run.tools)

    def _retrieve_tools(self, run: Run, k: int = 5) -> list[dict[str, Any]]:
        """The registry's tools most relevant to this goal and dataset (signatures and
        docstrings only: the prompt stays the same size however large the registry)."""
        from .tools import ToolError, ToolRegistry

        try:
            hits = ToolRegistry(self.state).retrieve(run.goal, self._profile_for(), k=k)
        except (ToolError, AgentForgeError) as exc:  # a broken tools.json must not stop a run
            log.warning("tool retrieval skipped: %s", exc)
            return []
        return [
            {
                "name": h.name,
                "version": h.version,
                "signature": h.signature,
                "doc": h.docstring[:600],
                "score": round(h.score, 3),
            }
            for h in hits
        ]

    def _dataset_ref(self, run: Run) -> DatasetRef | None:
        data = self.dataset
        if data is None:
            return None
        if isinstance(data, str):
            try:
                info = self.registry.get(data)
                path = self.registry.path(data)
            except DatasetError as exc:
                raise AgentError(str(exc)) from exc
            return DatasetRef(
                name=info.name,
                path=str(path),
                format=info.format,
                variable=self.variable,
                sha256=info.sha256,
                rows=info.rows,
                columns=list(info.columns),
            )
        import pandas as pd

        if not isinstance(data, pd.DataFrame):
            raise AgentError(
                f"dataset must be a registered dataset name or a pandas DataFrame, not "
                f"{type(data).__name__}"
            )
        from .sandbox.kernel import parquet_ready

        # Saved with the run, so the exported notebook can load exactly this data.
        assert run.run_dir is not None
        path = run.run_dir / INPUT_FRAME_FILE
        parquet_ready(data).to_parquet(path)
        return DatasetRef(
            name="dataframe",
            path=str(path),
            format="parquet",
            variable=self.variable,
            rows=len(data),
            columns=[str(c) for c in data.columns],
        )

    def _profile_for(self) -> dict[str, Any] | None:
        data = self.dataset
        if data is None:
            return None
        if self._profile is not None and self._profile[0] is data:
            return dict(self._profile[1])
        if isinstance(data, str):
            profile = self.registry.profile(data)
        else:
            from .datasets import profile_frame

            profile = profile_frame(data.head(1000), name="dataframe", rows=len(data))
        profile["variable"] = self.variable
        self._profile = (data, profile)
        return dict(profile)

    def _final_status(self, run: Run) -> str:
        return "failed" if any(s.status != "ok" for s in run.steps) else "ok"

    def _final_reason(self, run: Run) -> str:
        failed = [s for s in run.steps if s.status != "ok"]
        if not failed:
            return f"{len(run.steps)} step(s) completed"
        names = ", ".join(f"{s.step.id} ({s.step.title})" for s in failed)
        return f"{len(failed)} of {len(run.steps)} step(s) failed after repairs: {names}"

    def _stop_steps(self, run: Run, status: str) -> None:
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

    def _finish(self, run: Run, status: str, reason: str) -> None:
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
            insights=len(run.insights),
        )
        self.session.remember(run)
        if run.run_dir is not None:
            atomic_write_bytes(
                run.run_dir / RUN_FILE,
                json.dumps(run.to_dict(), indent=1, default=str).encode("utf-8"),
                durable=False,
            )

    def _abandon_pending(self, why: str) -> None:
        run, self._pending = self._pending, None
        if run is not None:
            self._finish(run, "cancelled", f"the plan was not executed: {why}")

    async def _after_cancel(self, run: Run) -> None:
        """Record the cancellation and leave the sandbox idle and usable."""
        run.recorder.emit("cancelled", reason="the run was cancelled (Ctrl-C or cancel())")
        self._stop_steps(run, "cancelled")
        sandbox = self.session.sandbox
        if sandbox is not None and sandbox.started:
            with contextlib.suppress(Exception):
                await sandbox.interrupt()
                # Waits for the interrupted cell; one that ignores the interrupt is killed
                # by the sandbox's own watchdog (loaded data is replayed after a restart).
                await sandbox.execute("pass", timeout=_CANCEL_SETTLE_S)
        self._finish(run, "cancelled", "cancelled by the user")

    # ----- the loop ---------------------------------------------------------------------
    async def _plan_and_execute(self, run: Run) -> None:
        await self._make_plan(run)
        await self._execute_plan(run)

    async def _make_plan(self, run: Run) -> None:
        # The sandbox starts while the brain plans: start-up hides behind the first brain call.
        prepare = asyncio.ensure_future(self._prepare(run))
        self._prepare_task = prepare
        try:
            run.plan = await self._ask_plan(run)
        except BaseException:
            # Not cancelled: a kernel half-started would leak. Let it finish, then report.
            with contextlib.suppress(BaseException):
                await asyncio.shield(prepare)
            raise

    async def _prepare(self, run: Run) -> None:
        try:
            sandbox = await self.session.ensure_sandbox()
            if run.dataset is not None:
                frame = None if isinstance(self.dataset, str) else self.dataset
                await self.session.load(run.dataset, frame)
        except (SandboxError, DatasetError, AgentError) as exc:
            raise _RunFailed("sandbox", f"the sandbox could not be prepared: {exc}") from exc
        if sandbox.isolation is not None:
            run.isolation = sandbox.isolation.level

    async def _ready(self, run: Run) -> None:
        prepare, self._prepare_task = self._prepare_task, None
        if prepare is not None:
            await asyncio.shield(prepare)  # a cancelled run must not cut a kernel start short
        await self._prepare(run)  # idempotent: a no-op when the task above did the work

    async def _ask_plan(self, run: Run) -> Plan:
        request = self._request(run, "plan")
        error: BrainReplyError | None = None
        for attempt in range(2):

            def delta(text: str, attempt: int = attempt) -> None:
                run.recorder.emit("plan_delta", text=text, attempt=attempt)

            text = ""
            try:
                # An empty or malformed reply is the model's failure too: it gets the retry.
                text = (
                    await self._ask(run, request, step=None, attempt=attempt, on_delta=delta)
                ).text
                plan = parse_plan(text, run.goal)
            except BrainReplyError as exc:  # includes PlanParseError
                error = exc
                self._error(run, "plan", str(exc), attempt=attempt, reply=_cap(text, 2000))
                request = self._request(run, "plan", previous_code=text, error=str(exc))
                continue
            run.recorder.emit("plan", plan=plan.to_dict(), attempt=attempt, source="brain")
            return plan
        raise _RunFailed("plan", f"the brain's plan could not be used after one retry: {error}")

    async def _execute_plan(self, run: Run) -> None:
        assert run.plan is not None
        await self._ready(run)
        total = len(run.plan.steps)
        for index, step in enumerate(run.plan.steps, start=1):
            if index > run.limits.max_steps:
                raise _LimitReached(
                    "steps",
                    run.limits.max_steps,
                    total,
                    f"the plan has {total} steps and the limit is {run.limits.max_steps}; "
                    f"{index - 1} were run (raise the steps limit to run them all)",
                )
            self._check_wall(run)
            await self._run_step(run, index, step, total)
        if any(s.status == "ok" for s in run.steps):
            await self._insights(run)

    async def _run_step(self, run: Run, index: int, step: PlanStep, total: int) -> None:
        record = StepRecord(step=step, index=index)
        run.steps.append(record)
        run.recorder.emit("step_start", step=step.to_dict(), index=index, total=total)
        started = time.monotonic()
        try:
            request = self._request(run, "code", step=step)
            text = await self._code_reply(run, request, step.id, 0)
            attempt = 0
            while True:
                current = await self._attempt(run, record, text, attempt)
                if current.ok:
                    record.status = "ok"
                    break
                if attempt >= self.repairs:
                    record.status = "failed"
                    break
                attempt += 1
                assert current.error is not None
                run.recorder.emit(
                    "repair",
                    step=step.id,
                    attempt=attempt,
                    reason=current.failure,
                    error=current.error,
                )
                request = self._request(
                    run, "repair", step=step, previous_code=current.code, error=current.error
                )
                text = await self._code_reply(run, request, step.id, attempt)
        finally:
            record.duration_s = time.monotonic() - started
        record.observation = self._observe(record)
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
        if record.status == "ok" and self.propose_tools:
            await self._propose_tool(run, record)

    async def _propose_tool(self, run: Run, record: StepRecord) -> None:
        """Ask for a reusable function; verify it like any tool; store it if auto-registering.
        Nothing here can fail the run: a bad proposal is reported and dropped."""
        if len(run.tool_proposals) >= self.max_proposals:
            return
        from .tools import ToolError, ToolRegistry

        request = self._request(run, "tool", step=record.step, previous_code=record.code)
        try:
            reply = await self._ask(run, request, step=record.step.id, attempt=0)
        except BrainError as exc:
            self._error(run, "tool", f"no tool proposal: {exc}", step=record.step.id)
            return
        if "NO_TOOL" in reply.text or "```" not in reply.text:
            return
        registry = ToolRegistry(self.state)
        source = extract_code(reply.text)
        try:
            candidate = registry.prepare(source)
            report = await registry.averify(candidate)
        except ToolError as exc:
            proposal = ToolProposal(_proposed_name(source), source, record.step.id, False, str(exc))
        else:
            proposal = ToolProposal(
                candidate.name,
                source,
                record.step.id,
                report.passed,
                "" if report.passed else report.describe(),
                candidate=candidate,
                report=report,
            )
        run.tool_proposals.append(proposal)
        run.recorder.emit("tool_proposal", **proposal.to_dict())
        if self.auto_register and proposal.verified:
            accept_proposal(run, proposal.name, registry=registry)

    async def _code_reply(
        self, run: Run, request: BrainRequest, step_id: str, attempt: int
    ) -> str | BrainReplyError:
        """The reply text, or the BrainReplyError of an empty/malformed reply (which, like
        unparsable code, goes back to the brain as a repair)."""
        try:
            return (await self._ask(run, request, step=step_id, attempt=attempt)).text
        except BrainReplyError as exc:
            return exc

    async def _attempt(
        self, run: Run, record: StepRecord, text: str | BrainReplyError, attempt: int
    ) -> Attempt:
        step_id = record.step.id
        try:
            if isinstance(text, BrainReplyError):
                raise text
            code = extract_code(text)
        except BrainReplyError as exc:  # includes CodeParseError
            current = Attempt(attempt, "", failure="parse", error=str(exc))
            record.attempts.append(current)
            self._error(run, "code", str(exc), step=step_id, attempt=attempt)
            return current
        current = Attempt(attempt, code)
        record.attempts.append(current)
        run.recorder.emit("code", step=step_id, attempt=attempt, code=code)
        findings = lint(code, self.lint_policy)
        current.findings = [f.to_dict() for f in findings]
        blocked = has_errors(findings)
        run.recorder.emit(
            "lint", step=step_id, attempt=attempt, ok=not blocked, findings=current.findings
        )
        if blocked:
            current.failure = "lint"
            current.error = (
                "The linter rejected the code, so it was not run. Fix every error below:\n"
                + format_findings(findings)
            )
            self._error(run, "lint", current.error, step=step_id, attempt=attempt)
            return current
        timeout = self._execution_timeout(run)
        result = await self._execute(run, code, timeout)
        current.result = result
        self._emit_result(run, step_id, attempt, result)
        if result.ok:
            return current
        current.failure = result.status
        variable = run.dataset.variable if run.dataset else None
        current.error = failure_text(result, timeout, variable)
        if result.status == "timeout" and timeout < self.step_timeout:
            self._check_wall(run)  # the run's wall-time budget cut this execution short
        error = result.error
        self._error(
            run,
            "execute",
            current.error,
            step=step_id,
            attempt=attempt,
            status=result.status,
            name=error.name if error else None,
            value=error.value if error else None,
            traceback=list(error.traceback) if error else [],
        )
        return current

    async def _execute(self, run: Run, code: str, timeout: float) -> ExecutionResult:
        sandbox = self.session.sandbox
        if sandbox is None:
            raise _RunFailed("sandbox", "the sandbox is not running")
        result = await sandbox.execute(code, timeout=timeout)
        run.exec_s += result.duration_s
        return result

    def _emit_result(self, run: Run, step_id: str, attempt: int, result: ExecutionResult) -> None:
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

    def _observe(self, record: StepRecord) -> Observation:
        last = record.attempts[-1] if record.attempts else None
        if last is None:
            output, status = "(no code was produced)", "failed"
        elif last.result is not None:
            output, status = observation_text(last.result), record.status
            if record.status != "ok":
                status = last.result.status
        else:
            output = _cap(last.error or "(not run)", MAX_OBSERVATION_CHARS)
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

    async def _insights(self, run: Run) -> None:
        try:
            reply = await self._ask(run, self._request(run, "insights"), step=None)
        except BrainReplyError as exc:
            # The analysis itself stands; only its summary is missing.
            self._error(run, "insights", f"the brain's insights could not be used: {exc}")
            return
        run.insights_text = reply.text.strip()
        run.insights = split_insights(run.insights_text)
        for index, text in enumerate(run.insights):
            run.recorder.emit("insight", index=index, text=text)

    # ----- brain calls and budgets ------------------------------------------------------
    def _request(
        self,
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
            dataset=self._profile_for(),
            plan=run.plan,
            step=step,
            observations=run.observations,
            previous_code=previous_code,
            error=error,
            tools=list(run.tools),
            history=list(self.session.history),
        )

    async def _ask(
        self,
        run: Run,
        request: BrainRequest,
        *,
        step: str | None,
        attempt: int = 0,
        on_delta: Callable[[str], None] | None = None,
    ) -> BrainReply:
        limits = run.limits
        if run.brain_calls >= limits.max_brain_calls:
            raise _LimitReached(
                "brain_calls",
                limits.max_brain_calls,
                run.brain_calls,
                f"the run used its {limits.max_brain_calls} brain calls",
            )
        remaining = self._check_wall(run)
        run.brain_calls += 1
        started = time.monotonic()
        try:
            reply = await asyncio.wait_for(self.brain.ask(request, on_delta), remaining)
        except asyncio.TimeoutError as exc:
            raise _LimitReached(
                "wall_s",
                limits.max_wall_s,
                round(run.elapsed(), 3),
                f"the run passed its wall-time limit of {limits.max_wall_s:g} s "
                "while waiting for the brain",
            ) from exc
        finally:
            run.brain_s += time.monotonic() - started
        run.prompt_tokens += int(reply.prompt_tokens or 0)
        run.completion_tokens += int(reply.completion_tokens or 0)
        run.recorder.emit(
            "brain_call",
            task=request.task,
            step=step,
            attempt=attempt,
            model=reply.model,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            duration_s=round(time.monotonic() - started, 6),
            prompt_hash=reply.prompt_hash,
        )
        if run.tokens > limits.max_tokens:
            raise _LimitReached(
                "tokens",
                limits.max_tokens,
                run.tokens,
                f"the run used {run.tokens} tokens, over its limit of {limits.max_tokens}",
            )
        return reply

    def _check_wall(self, run: Run) -> float:
        """Seconds left of the run's wall-time budget; raises when it is spent."""
        remaining = run.limits.max_wall_s - run.elapsed()
        if remaining <= 0:
            raise _LimitReached(
                "wall_s",
                run.limits.max_wall_s,
                round(run.elapsed(), 3),
                f"the run passed its wall-time limit of {run.limits.max_wall_s:g} s",
            )
        return remaining

    def _execution_timeout(self, run: Run) -> float:
        return max(0.001, min(self.step_timeout, self._check_wall(run)))

    def _error(self, run: Run, stage: str, message: str, **extra: Any) -> None:
        payload = {"step": None, "attempt": None, **extra}
        run.recorder.emit("error", stage=stage, message=message, **payload)


def _pump(inbox: queue.SimpleQueue[Any], done: object, on_event: Any, future: Any) -> None:
    """Deliver relayed events to `on_event` in this thread until `done` arrives (or the future
    is done and nothing is left, in case an interrupt swallowed the `done` marker)."""
    while True:
        try:
            item = inbox.get(timeout=0.25)
        except queue.Empty:
            if future.done():
                return
            continue
        if item is done:
            return
        if on_event is not None:
            try:
                on_event(item)
            except Exception:  # a rendering bug must not stop or lose the run
                log.exception("on_event callback failed on %s #%d", item.type, item.seq)
