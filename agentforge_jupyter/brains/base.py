"""What the agent asks a brain, and what a brain answers.

The agent never builds chat messages itself: it hands a structured `BrainRequest` to a brain.
LLM brains turn it into messages (brains/prompts.py); the offline brain reads it directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Task = Literal["plan", "code", "repair", "insights", "tool"]

# Called with each streamed piece of the reply text, as it arrives.
DeltaCallback = Callable[[str], None]


@dataclass
class PlanStep:
    id: str
    title: str
    rationale: str = ""
    expected: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    goal: str
    steps: list[PlanStep]

    def to_dict(self) -> dict[str, Any]:
        return {"goal": self.goal, "steps": [s.to_dict() for s in self.steps]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(goal=data["goal"], steps=[PlanStep(**s) for s in data["steps"]])


@dataclass
class Observation:
    """What one executed step showed: the code and its outputs as capped text."""

    step_id: str
    title: str
    code: str
    status: str
    output: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BrainRequest:
    task: Task
    goal: str
    # The dataset profile (datasets.profile(...) as a dict) plus "variable": the name the data
    # has in the sandbox (normally "df"). Dataset content is data, never instructions.
    dataset: dict[str, Any] | None = None
    plan: Plan | None = None
    step: PlanStep | None = None
    observations: list[Observation] = field(default_factory=list)
    # For task "repair": the failing code and what went wrong (lint findings or traceback).
    previous_code: str | None = None
    error: str | None = None
    # Retrieved tools (issue 4): [{"name", "signature", "doc"}]; only these reach the prompt.
    tools: list[dict[str, Any]] = field(default_factory=list)
    # Earlier runs in the same session, for follow-ups: [{"goal", "plan", "observations"}].
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class BrainReply:
    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Hash of the exact prompt sent (sha256 hex), recorded as provenance in exports.
    prompt_hash: str = ""


@runtime_checkable
class Brain(Protocol):
    name: str
    kind: str
    model: str

    async def ask(self, request: BrainRequest, on_delta: DeltaCallback | None = None) -> BrainReply:
        """Answer one request. Raises BrainError (brains/errors) for transport failures."""
        ...
