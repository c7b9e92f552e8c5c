"""Accept buttons for the tools a run proposed (verified ones only)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from ..errors import AgentForgeError


def proposal_buttons(run: Any) -> w.VBox | None:
    """One row per verified, not yet stored proposal: its source folded, and a Register button
    that stores it through `accept_proposal` (no second verification)."""
    from ..agent import accept_proposal

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
                out.value = f"registered <code>{html.escape(accept_proposal(run, name))}</code>"
                b.disabled = True
            except AgentForgeError as exc:
                out.value = f"<b>not registered:</b> {html.escape(str(exc))}"

        button.on_click(register)
        source = w.HTML(
            f"<details><summary>tool proposed: <code>{html.escape(proposal.name)}"
            f"</code> (verified)</summary><pre>{html.escape(proposal.code)}</pre>"
            "</details>"
        )
        rows.append(w.VBox([source, w.HBox([button, status])]))
    return w.VBox(rows) if rows else None
