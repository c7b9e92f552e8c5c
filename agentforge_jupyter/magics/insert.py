"""What `%%agent --insert` writes into the user's notebook: one cell that re-runs the run there.

The cell holds what the export's setup cells hold (load the data, define the tools the steps
import), then the code of each successful step. It runs in the user's own kernel, outside the
sandbox, so at the moment of writing every piece goes through the host-side gate: a piece with an
error finding is written commented out with its findings, and the caller tells the user why.
Titles, goals and brain names enter the cell only as one-line comments (`sanitize.comment`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..agent import Run
from ..export import run_to_notebook
from ..gate import gate_code
from ..sanitize import comment


@dataclass(frozen=True)
class InsertedCell:
    """The cell's source, and for each blocked piece its label and the reasons."""

    source: str
    blocked: list[tuple[str, list[str]]] = field(default_factory=list)


def inserted_cell(run: Run) -> InsertedCell:
    """The cell `%%agent --insert` writes for `run` (which must have a plan)."""
    pieces = _setup_pieces(run)
    pieces += [
        (f"{record.index}. {record.step.title}", record.code)
        for record in run.steps
        if record.code and record.status == "ok"
    ]
    header = [
        comment(f"AgentForge run {run.run_id}: {run.goal}", limit=300),
        comment(f"brain {run.brain} ({run.model}); loads the data and tools, then the steps"),
    ]
    blocks: list[str] = []
    blocked: list[tuple[str, list[str]]] = []
    for label, code in pieces:
        gated = gate_code(code)
        if gated.blocked:
            blocked.append((label, gated.reasons()))
        blocks.append(comment(label, limit=200) + "\n" + gated.source.rstrip("\n"))
    return InsertedCell("\n".join(header) + "\n\n" + "\n\n".join(blocks) + "\n", blocked)


def _setup_pieces(run: Run) -> list[tuple[str, str]]:
    """The export's own setup code cells (data loading, tools), in the export's order."""
    notebook = run_to_notebook(run)
    pieces = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("agentforge", {})
        if cell.cell_type == "code" and "step" not in meta and cell.source.strip():
            pieces.append((f"setup: {meta.get('role', 'setup')}", cell.source))
    return pieces
