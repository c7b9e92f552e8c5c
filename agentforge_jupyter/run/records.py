"""What a run leaves behind: the Run and its steps, attempts, data and tool proposals, as they
are written to `run.json`, and `load_run` to read a finished run back."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..brains.base import Observation, Plan, PlanStep
from ..events import Event, RunRecorder, read_events
from ..sandbox.result import ExecutionResult
from .errors import AgentError
from .limits import RunLimits

__all__ = [
    "DEFAULT_VARIABLE",
    "INPUT_FRAME_FILE",
    "RUN_FILE",
    "Attempt",
    "DatasetRef",
    "Run",
    "StepRecord",
    "ToolProposal",
    "load_run",
]

DEFAULT_VARIABLE = "df"
RUN_FILE = "run.json"
INPUT_FRAME_FILE = "input.parquet"


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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attempt:
        result = data.get("result")
        return cls(
            attempt=int(data["attempt"]),
            code=data.get("code", ""),
            findings=list(data.get("findings", [])),
            result=ExecutionResult.from_dict(result) if result else None,
            failure=data.get("failure"),
            error=data.get("error"),
        )


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

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepRecord:
        observation = data.get("observation")
        return cls(
            step=PlanStep(**data["step"]),
            index=int(data["index"]),
            status=data["status"],
            attempts=[Attempt.from_dict(a) for a in data.get("attempts", [])],
            observation=Observation(**observation) if observation else None,
            duration_s=float(data.get("duration_s") or 0.0),
        )


@dataclass
class ToolProposal:
    """A function the brain proposed at the end of a run, and how its verification went."""

    name: str
    code: str
    step: str | None  # the step it came from, None for a proposal drawn from the whole run
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


@dataclass
class Run:
    """One goal, end to end. `status`: running, ok, failed, cancelled or limit.

    `state_root` is the state directory the run belongs to (its registries, its `runs/`)."""

    run_id: str
    goal: str
    recorder: RunRecorder
    brain: str = ""
    brain_kind: str = ""
    model: str = ""
    dataset: DatasetRef | None = None
    session_id: str = ""
    run_dir: Path | None = None
    state_root: Path | None = None
    status: str = "running"
    reason: str = ""
    plan: Plan | None = None
    steps: list[StepRecord] = field(default_factory=list)
    insights: list[str] = field(default_factory=list)
    insights_text: str = ""
    insights_error: str = ""  # why there are no insights although steps succeeded
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

    @property
    def steps_planned(self) -> int:
        return len(self.plan.steps) if self.plan else 0

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
            "insights_error": self.insights_error,
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


def load_run(run_dir: str | Path, *, state_root: str | Path | None = None) -> Run:
    """A finished run read back from its directory (`run.json` and `events.jsonl`), e.g. to
    export it again. `state_root` defaults to the state directory that holds the run
    (`<state>/runs/<run_id>`). Raises AgentError when the run has no summary (it never
    finished) or the summary is not valid JSON."""
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
    run = Run(
        run_id=data["run_id"],
        goal=data["goal"],
        recorder=recorder,
        run_dir=directory,
        state_root=Path(state_root) if state_root is not None else directory.parent.parent,
        status=data["status"],
        plan=Plan.from_dict(data["plan"]) if data.get("plan") else None,
        steps=[StepRecord.from_dict(s) for s in data.get("steps", [])],
        limits=RunLimits(**data["limits"]) if data.get("limits") else RunLimits(),
    )
    _load_fields(run, data)
    return run


_TEXT_FIELDS: tuple[str, ...] = ("brain", "brain_kind", "model", "session_id", "reason")
_TEXT_FIELDS += ("insights_text", "insights_error", "isolation")
_FLOAT_FIELDS = ("started", "duration_s", "brain_s", "exec_s")
_INT_FIELDS = ("brain_calls", "prompt_tokens", "completion_tokens")


def _load_fields(run: Run, data: dict[str, Any]) -> None:
    for name in _TEXT_FIELDS:
        setattr(run, name, str(data.get(name) or ""))
    for name in _FLOAT_FIELDS:
        setattr(run, name, float(data.get(name) or 0.0))
    for name in _INT_FIELDS:
        setattr(run, name, int(data.get(name) or 0))
    run.ended = data.get("ended")
    run.insights = list(data.get("insights", []))
    dataset = data.get("dataset")
    run.dataset = DatasetRef(**dataset) if dataset else None
