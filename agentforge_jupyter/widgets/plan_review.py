"""`%%agent --review`: edit, remove or add plan steps, then run the edited plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ..brains.base import Plan, PlanStep


class PlanReview:
    """An editor for a plan. `run()` (or the button) executes the plan as edited."""

    def __init__(self, plan: Plan, execute: Callable[[Plan], Any]) -> None:
        self.goal = plan.goal
        self.execute = execute
        self.rows: list[tuple[w.Text, w.Text, w.Checkbox]] = []
        self.result: Any = None
        self.box = w.VBox()
        self.add_button = w.Button(description="Add step", icon="plus")
        self.run_button = w.Button(description="Run plan", button_style="primary", icon="play")
        self.status = w.HTML()
        self.add_button.on_click(lambda _: self.add_step())
        self.run_button.on_click(lambda _: self.run())
        for step in plan.steps:
            self.add_step(step.title, step.rationale)
        self.widget = w.VBox(
            [
                w.HTML(f"<b>Plan for:</b> {_esc(self.goal)}"),
                self.box,
                w.HBox([self.add_button, self.run_button]),
                self.status,
            ]
        )

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
        plan = self.edited_plan()
        if not plan.steps:
            self.status.value = "<b>The plan has no steps.</b> Add one first."
            return None
        self.run_button.disabled = True
        self.result = self.execute(plan)
        self.status.value = f"run finished: {_esc(getattr(self.result, 'status', ''))}"
        return self.result


def _esc(text: Any) -> str:
    import html

    return html.escape(str(text))
