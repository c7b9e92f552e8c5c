"""`%%agent --review`: edit, remove or add plan steps, then run the edited plan (or drop it).

A plan in review is one pending run. It ends in one of three ways: it is run (`run()`), the
user discards it (`abandon()`), or a newer plan replaces it (`replace()`, called by the magic
when another `%%agent` cell starts). After any of them the editor is closed for good.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ..brains.base import Plan, PlanStep
from ..errors import AgentForgeError
from ..render import render


class PlanReview:
    """An editor for a plan. `run()` (or the button) executes the plan as edited."""

    def __init__(
        self,
        plan: Plan,
        execute: Callable[[Plan], Any],
        abandon: Callable[[str], None] | None = None,
    ) -> None:
        self.goal = plan.goal
        self.execute = execute
        self.on_abandon = abandon
        self.rows: list[tuple[w.Text, w.Text, w.Checkbox]] = []
        self.result: Any = None
        self.state = "review"  # then: running, done, abandoned
        self.box = w.VBox()
        self.add_button = w.Button(description="Add step", icon="plus")
        self.run_button = w.Button(description="Run plan", button_style="primary", icon="play")
        self.abandon_button = w.Button(description="Discard plan", icon="times")
        self.status = w.HTML()
        self.add_button.on_click(lambda _: self.add_step())
        self.run_button.on_click(lambda _: self._clicked_run())
        self.abandon_button.on_click(lambda _: self.abandon())
        for step in plan.steps:
            self.add_step(step.title, step.rationale)
        self.widget = w.VBox(
            [
                w.HTML(render("plan_review.html.j2", goal=self.goal)),
                self.box,
                w.HBox([self.add_button, self.run_button, self.abandon_button]),
                self.status,
            ]
        )

    @property
    def open(self) -> bool:
        return self.state == "review"

    def add_step(self, title: str = "", rationale: str = "") -> None:
        row = (
            w.Text(value=title, placeholder="step title", layout=w.Layout(width="40%")),
            w.Text(value=rationale, placeholder="why", layout=w.Layout(width="45%")),
            w.Checkbox(value=False, description="remove", indent=False),
        )
        self.rows.append(row)
        self.box.children = [w.HBox(list(r)) for r in self.rows]

    def edited_plan(self) -> Plan:
        steps = [
            PlanStep(id=f"s{i}", title=title.value.strip(), rationale=why.value.strip())
            for i, (title, why, remove) in enumerate(
                (r for r in self.rows if not r[2].value and r[0].value.strip()), start=1
            )
        ]
        return Plan(goal=self.goal, steps=steps)

    def run(self) -> Any:
        """Execute the edited plan; None (and a message) if it has no steps or was dropped."""
        if not self.open:
            self._say("abandoned" if self.state == "abandoned" else "done", self.state)
            return None
        plan = self.edited_plan()
        if not plan.steps:
            self._say("empty")
            return None
        self.state = "running"
        self._close_editor()
        self._say("running")
        try:
            self.result = self.execute(plan)
        except BaseException:
            self.state = "done"
            raise
        self.state = "done"
        self._say("finished", getattr(self.result, "status", ""))
        return self.result

    def abandon(self, why: str = "discarded by the user") -> None:
        """Drop the plan without running it; the pending run is recorded as cancelled."""
        if not self.open:
            return
        self.state = "abandoned"
        self._close_editor()
        self._say("abandoned", why)
        if self.on_abandon is not None:
            self.on_abandon(why)

    def replace(self, why: str = "a newer plan replaced it") -> None:
        """Called when another goal's plan takes over the session."""
        self.abandon(why)

    def _clicked_run(self) -> None:
        # A click has no caller to raise to: show the error where the user is looking.
        try:
            self.run()
        except AgentForgeError as exc:
            self._say("failed", str(exc))

    def _close_editor(self) -> None:
        for button in (self.add_button, self.run_button, self.abandon_button):
            button.disabled = True
        for row in self.rows:
            for field in row:
                field.disabled = True

    def _say(self, kind: str, text: str = "") -> None:
        self.status.value = render("plan_status.html.j2", kind=kind, text=text)
