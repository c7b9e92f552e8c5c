"""The offline brains: deterministic, rule-based, and honest about it (see the package docs)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from ...sanitize import comment
from ..base import BrainReply, BrainRequest, DeltaCallback, Plan, PlanStep
from ..plan_parsing import plan_to_json
from .codegen import DEFENSIVE_MARKER, FALLBACK_MARKER, code_for
from .insights import insights_from_observations
from .intents import (
    FINANCE_INTENTS,
    GENERAL_INTENTS,
    INTENT_DESCRIPTIONS,
    detect_intents,
    intent_of_title,
)
from .profile import Profile
from .specs import AnalysisSpec, goal_intents, plan_specs, spec_from_text, unusable
from .tools import proposal_for

__all__ = ["FINANCE_MODEL", "OFFLINE_MODEL", "OfflineBrain", "OfflineFinanceBrain"]

OFFLINE_MODEL = "agentforge-offline-rules-v1"
FINANCE_MODEL = "agentforge-offline-finance-v1"
NO_TOOL = "NO_TOOL"
_DELTA_CHUNKS = 4


class OfflineBrain:
    """The generalist offline brain. Deterministic: the same request gives the same reply."""

    kind = "offline"
    finance = False

    def __init__(self, name: str = "offline", model: str = OFFLINE_MODEL) -> None:
        self.name = name
        self.model = model

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, model={self.model!r})"

    @property
    def intents(self) -> tuple[str, ...]:
        return GENERAL_INTENTS + (FINANCE_INTENTS if self.finance else ())

    async def list_models(self) -> list[str]:
        return [self.model]

    async def ask(self, request: BrainRequest, on_delta: DeltaCallback | None = None) -> BrainReply:
        text = self.answer(request)
        if on_delta is not None:
            for piece in _chunks(text, _DELTA_CHUNKS):
                on_delta(piece)
        return BrainReply(text=text, model=self.model, prompt_hash=_request_hash(request))

    def answer(self, request: BrainRequest) -> str:
        """The reply text for ``request`` (synchronous; ``ask`` wraps it)."""
        if request.task == "plan":
            return plan_to_json(self.plan(request.goal, request.dataset, request.history))
        if request.task in ("code", "repair"):
            level = _repair_level(request.previous_code) if request.task == "repair" else 0
            code = self.code(request, level=level)
            return f"```python\n{code}```\n"
        if request.task == "insights":
            return insights_from_observations(request.goal, request.observations)
        return self.tool(request)

    def tool(self, request: BrainRequest) -> str:
        """Task "tool": a reusable function for this step's intent, or NO_TOOL."""
        if request.step is None:
            return NO_TOOL
        known = {str(t.get("name")) for t in request.tools}
        return proposal_for(self.spec_for(request).intent, known) or NO_TOOL

    # -- planning

    def plan(
        self,
        goal: str,
        dataset: dict[str, Any] | None = None,
        history: Sequence[dict[str, Any]] = (),
    ) -> Plan:
        profile = Profile.from_dataset(dataset)
        specs, notes = plan_specs(
            goal, profile, finance=self.finance, history_text=_history_text(history)
        )
        matched = goal_intents(goal, profile, finance=self.finance)
        steps = [
            PlanStep(
                id=f"s{number}",
                title=spec.title(),
                rationale=_rationale(spec),
                expected=spec.expected(),
            )
            for number, spec in enumerate(specs, start=1)
        ]
        steps[0].rationale = f"{self._introduction(matched, notes)} {steps[0].rationale}"
        return Plan(goal=goal, steps=steps)

    def _introduction(self, matched: list[str], notes: list[str]) -> str:
        who = (
            "Planned by AgentForge's offline finance specialist, a rule-based brain (no "
            "language model)"
            if self.finance
            else "Planned by AgentForge's offline rule-based brain (no language model)"
        )
        if matched:
            found = ", ".join(INTENT_DESCRIPTIONS[i].split(" (")[0] for i in matched)
            text = f"{who}, which read the goal as asking for: {found}."
        else:
            known = "; ".join(INTENT_DESCRIPTIONS[i] for i in self.intents)
            text = (
                f"{who}. The goal matched no analysis it knows ({known}), so the plan starts "
                "with an overview and a data quality check."
            )
        return " ".join([text, *notes])

    # -- code

    def spec_for(self, request: BrainRequest) -> AnalysisSpec:
        """The analysis a code/repair request's step asks for (read from the step title)."""
        profile = Profile.from_dataset(request.dataset)
        title = request.step.title if request.step is not None else request.goal
        context = " ".join([request.goal, _history_text(request.history)])
        intent = intent_of_title(title, finance=self.finance)
        if intent is None:
            from_goal = detect_intents(request.goal, finance=self.finance)
            intent = from_goal[0] if from_goal else "overview"
            title = f"{title} {request.goal}"
        spec = spec_from_text(intent, title, profile, context_text=context, finance=self.finance)
        if unusable(spec, profile):
            # An edited title may ask for columns this data lacks: show what there is.
            spec = spec_from_text("overview", title, profile)
        return spec

    def code(self, request: BrainRequest, *, level: int = 0) -> str:
        spec = self.spec_for(request)
        profile = Profile.from_dataset(request.dataset)
        variable = str((request.dataset or {}).get("variable") or "df")
        code = code_for(spec, profile, variable=variable, level=level)
        if level and request.error:
            first_line = _first_error_line(request.error)
            note = comment(f"The previous attempt failed: {first_line}")
            code = code.replace("\n", f"\n{note}\n", 1)
        return code


class OfflineFinanceBrain(OfflineBrain):
    """The finance specialist: adds returns, moving averages, volatility and drawdown."""

    finance = True

    def __init__(self, name: str = "offline-finance", model: str = FINANCE_MODEL) -> None:
        super().__init__(name=name, model=model)


# --------------------------------------------------------------------------- helpers


def _rationale(spec: AnalysisSpec) -> str:
    columns = [c for c in (spec.value, spec.second, spec.group, spec.date) if c]
    on = f" Columns: {', '.join(columns)}." if columns else ""
    return f"The goal calls for {INTENT_DESCRIPTIONS[spec.intent]}.{on}"


def _history_text(history: Sequence[dict[str, Any]]) -> str:
    # Follow-ups ("now split that by product") borrow columns from earlier goals.
    return " ".join(str(run.get("goal", "")) for run in reversed(list(history or [])))


def _repair_level(previous_code: str | None) -> int:
    code = previous_code or ""
    return 2 if DEFENSIVE_MARKER in code or FALLBACK_MARKER in code else 1


def _first_error_line(error: str) -> str:
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    # The last line of a traceback names the exception; lint reports lead with the finding.
    line = lines[-1] if lines and "Traceback" in error else (lines[0] if lines else "")
    return line[:160]


def _chunks(text: str, count: int) -> list[str]:
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _request_hash(request: BrainRequest) -> str:
    canonical = json.dumps(asdict(request), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
