"""The live display of a run in a notebook, updated in place from the run's events.

Everything shown is rendered by the run_view template with autoescape: model output, sandbox
output and dataset values are never inserted as markup. Charts are shown only from base64 that
decodes to a real PNG; tables only from validated table JSON.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from ..events import Event, EventConsumer
from ..render import render, table_display_html
from ..sandbox.outputs import checked_png
from ..sandbox.result import PNG, TABLE, TEXT

MAX_PNG_BYTES = 5_000_000
_IMMEDIATE = {"plan", "step_start", "execution", "insight", "run_end", "error", "repair"}


@dataclass
class AttemptView:
    number: int
    code: str = ""
    lint: list[dict[str, Any]] = field(default_factory=list)
    lint_ok: bool | None = None
    outputs: list[tuple[str, Any]] = field(default_factory=list)  # (mime or stream name, data)
    status: str = ""
    notes: list[str] = field(default_factory=list)
    repair_reason: str = ""


@dataclass
class StepView:
    step_id: str
    title: str
    index: int
    total: int
    attempts: list[AttemptView] = field(default_factory=list)
    status: str = "running"

    def attempt(self, number: int) -> AttemptView:
        """The view of attempt `number` (as numbered by the events), created on first use."""
        for attempt in self.attempts:
            if attempt.number == number:
                return attempt
        self.attempts.append(AttemptView(number))
        return self.attempts[-1]


RUN_MIME_TYPE = "application/vnd.agentforge.run+json"


class RunView(EventConsumer):
    """Collects events and renders them as HTML; `update` pushes to a display handle."""

    def __init__(self, quiet: bool = False, min_interval: float = 0.1) -> None:
        self.quiet = quiet
        self.min_interval = min_interval
        self.goal = ""
        self.run_id = ""
        self.header: dict[str, Any] = {}
        self.plan_text = ""
        self.plan: list[dict[str, Any]] = []
        self.steps: dict[str, StepView] = {}
        self.insights: list[str] = []
        self.messages: list[str] = []
        self.status = "running"
        self.reason = ""
        self._handle: Any = None
        self._last = 0.0

    # ----- events -----------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        self.apply(event)
        if self._handle is not None:
            now = time.monotonic()
            if event.type in _IMMEDIATE or now - self._last >= self.min_interval:
                self._last = now
                self._handle.update(self.bundle(), raw=True)

    def _on_run_start(self, e: Event) -> None:
        self.run_id = e.run_id
        self.goal = e["goal"]
        dataset = e["dataset"] or {}
        self.header = {
            "brain": e["brain"],
            "model": e["model"],
            "dataset": dataset.get("name", "") if isinstance(dataset, dict) else "",
        }

    def _on_plan_delta(self, e: Event) -> None:
        self.plan_text += e["text"]

    def _on_plan(self, e: Event) -> None:
        self.plan = list(e["plan"]["steps"])

    def _on_step_start(self, e: Event) -> None:
        step = e["step"]
        self.steps[step["id"]] = StepView(step["id"], step["title"], e["index"], e["total"])

    def _attempt(self, e: Event) -> AttemptView | None:
        step = self.steps.get(e["step"])
        return step.attempt(int(e["attempt"])) if step else None

    def _on_code(self, e: Event) -> None:
        if (attempt := self._attempt(e)) is not None:
            attempt.code = e["code"]

    def _on_lint(self, e: Event) -> None:
        if (attempt := self._attempt(e)) is not None:
            attempt.lint_ok, attempt.lint = bool(e["ok"]), list(e["findings"])

    def _on_output(self, e: Event) -> None:
        if (attempt := self._attempt(e)) is None:
            return
        if e["kind"] == "stream":
            attempt.outputs.append((e.get("name", "stdout"), e.get("text", "")))
        else:
            attempt.outputs.append((e.get("mime", TEXT), e.get("data")))

    def _on_execution(self, e: Event) -> None:
        if (attempt := self._attempt(e)) is not None:
            attempt.status, attempt.notes = e["status"], list(e["notes"])

    def _on_repair(self, e: Event) -> None:
        step = self.steps.get(e["step"])
        if step is not None and step.attempts:
            step.attempts[-1].repair_reason = str(e["reason"])

    def _on_step_end(self, e: Event) -> None:
        if (step := self.steps.get(e["step"])) is not None:
            step.status = e["status"]

    def _on_tool_proposal(self, e: Event) -> None:
        state = (
            "verified; accept with accept_proposal(run, name)"
            if e["verified"]
            else (f"not verified: {e['problem']}")
        )
        self.messages.append(f"tool proposed: {e['name']} ({state})")

    def _on_tool_registered(self, e: Event) -> None:
        self.messages.append(f"tool registered: {e['name']}@{e['version']}")

    def _on_insight(self, e: Event) -> None:
        self.insights.append(e["text"])

    def _on_error(self, e: Event) -> None:
        if e["stage"] not in ("execute", "lint"):  # those are shown with their attempt
            self.messages.append(f"{e['stage']}: {e['message']}")

    def _on_limit(self, e: Event) -> None:
        self.messages.append(e["message"])

    def _on_run_end(self, e: Event) -> None:
        self.status, self.reason = e["status"], e["reason"]

    # ----- rendering --------------------------------------------------------------------
    def bundle(self) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/html": self.html(), "text/plain": self.text()}
        if self.run_id:
            # JupyterLab with the AgentForge extension renders this as the side panel's live
            # view (with "Insert as cells"); elsewhere the HTML above is shown.
            bundle[RUN_MIME_TYPE] = {"run_id": self.run_id}
        return bundle

    def text(self) -> str:
        lines = [f"AgentForge run [{self.status}] {self.goal}"]
        lines += [f"  {i + 1}. {s['title']}" for i, s in enumerate(self.plan)]
        lines += [f"  - {insight}" for insight in self.insights]
        return "\n".join(lines)

    def html(self) -> str:
        header = {"brain": "", "model": "", "dataset": "", **self.header}
        return render(
            "run_view.html.j2",
            status=self.status,
            reason=self.reason,
            goal=self.goal,
            header=header,
            quiet=self.quiet,
            plan=self.plan,
            plan_text=self.plan_text,
            steps=list(self.steps.values()),
            messages=self.messages,
            insights=self.insights,
            outputs_of=_outputs,
        )

    # ----- display ----------------------------------------------------------------------
    def show(self) -> None:
        from IPython.display import display

        self._handle = display(self.bundle(), raw=True, display_id=True)

    def finish(self) -> None:
        if self._handle is not None:
            self._handle.update(self.bundle(), raw=True)


def _outputs(attempt: AttemptView) -> list[dict[str, Any]]:
    """An attempt's outputs as plain values for the template (which escapes all of them)."""
    return [_output(kind, data) for kind, data in attempt.outputs]


def _output(kind: str, data: Any) -> dict[str, Any]:
    if kind in ("stdout", "stderr"):
        return {"kind": "stream", "name": kind, "text": data}
    if kind == PNG:
        png = checked_png(data, MAX_PNG_BYTES)  # base64 of a real PNG, or None
        return {"kind": "png", "png": png} if png else {"kind": "bad_png"}
    if kind == TABLE and isinstance(data, dict):
        try:
            return {"kind": "table", "html": Markup(table_display_html(data))}
        except (KeyError, TypeError):
            pass
    return {"kind": "text", "text": data}


__all__ = ["RunView"]
