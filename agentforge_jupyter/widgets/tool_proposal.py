"""Accept buttons for the tools a run proposed (verified ones only)."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from ..agent import accept_proposal
from ..errors import AgentForgeError
from ..render import message_html, render


def proposal_buttons(run: Any) -> w.VBox | None:
    """One row per verified, not yet stored proposal: its source shown, and a Register button
    that stores it through `accept_proposal` (no second verification)."""
    rows = []
    for proposal in run.tool_proposals:
        if not proposal.verified or proposal.stored:
            continue
        status = w.HTML()
        button = w.Button(description=f"Register {proposal.name}", icon="plus")

        def register(
            _: Any, name: str = proposal.name, out: w.HTML = status, b: w.Button = button
        ) -> None:
            try:
                out.value = message_html("registered", code=accept_proposal(run, name))
                b.disabled = True
            except AgentForgeError as exc:
                out.value = message_html("not registered:", text=str(exc))

        button.on_click(register)
        source = w.HTML(render("tool_proposal.html.j2", name=proposal.name, code=proposal.code))
        rows.append(w.VBox([source, w.HBox([button, status])]))
    return w.VBox(rows) if rows else None
