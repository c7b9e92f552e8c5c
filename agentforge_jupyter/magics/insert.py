"""What `%%agent --insert` writes into the user's notebook: one cell that re-runs the run there.

The cell holds what the export's setup cells hold (load the data, define the tools the steps
import), then the code of each successful step. It runs in the user's own kernel, outside the
sandbox, so at the moment of writing every piece goes through the host-side gate: a piece with an
error finding is written commented out with its findings, and the caller tells the user why.
Titles, goals and brain names enter the cell only as one-line comments (`sanitize.comment`).

One cell, not several: IPython keeps only the last `set_next_input` of an execution.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ..agent import Run
from ..export import run_to_notebook
from ..export.code import tool_setup
from ..gate import gate_code
from ..lint import LintPolicy, default_policy
from ..sanitize import comment
from ..state import StateDir
from ..tools import ToolRegistry
from ..tools.package import glue_policy


@dataclass(frozen=True)
class InsertedCell:
    """The cell's source, and for each blocked piece its label and the reasons."""

    source: str
    blocked: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass(frozen=True)
class _Piece:
    label: str
    code: str
    policy: LintPolicy | None = None  # None: the default (sandbox) policy


def inserted_cell(run: Run, store: StateDir) -> InsertedCell:
    """The cell `%%agent --insert` writes for `run` (which must have a plan)."""
    pieces = [*_data_pieces(run), *_tool_pieces(run, store), *_step_pieces(run)]
    header = [
        comment(f"AgentForge run {run.run_id}: {run.goal}", limit=300),
        comment(f"brain {run.brain} ({run.model}); loads the data and tools, then the steps"),
    ]
    blocks: list[str] = []
    blocked: list[tuple[str, list[str]]] = []
    for piece in pieces:
        gated = gate_code(piece.code, piece.policy)
        if gated.blocked:
            blocked.append((piece.label, gated.reasons()))
        blocks.append(comment(piece.label, limit=200) + "\n" + gated.source.rstrip("\n"))
    return InsertedCell("\n".join(header) + "\n\n" + "\n\n".join(blocks) + "\n", blocked)


def _data_pieces(run: Run) -> list[_Piece]:
    """The export's setup code cells other than tools (the data loading), in its order."""
    policy = _data_policy(run)
    pieces = []
    for cell in run_to_notebook(run).cells:
        meta = cell.get("metadata", {}).get("agentforge", {})
        role = meta.get("role", "")
        setup = cell.cell_type == "code" and "step" not in meta and role != "tools"
        if setup and cell.source.strip():
            pieces.append(_Piece(f"setup: {role or 'setup'}", cell.source, policy))
    return pieces


def _data_policy(run: Run) -> LintPolicy:
    """The default policy, plus reading the run's own dataset file where it lies on the host."""
    base = default_policy()
    path = run.dataset.path if run.dataset is not None else None
    if not path:
        return base
    folder = str(Path(path).expanduser().absolute().parent)
    return dataclasses.replace(base, workspace_dirs=base.workspace_dirs | {folder})


def _tool_pieces(run: Run, store: StateDir) -> list[_Piece]:
    """The registry tools the steps import: their sources (default policy), then the glue."""
    setup = tool_setup(run, lambda: ToolRegistry.opened(store))
    if setup is None:
        return []
    sources, glue = setup
    return [
        _Piece("setup: tools", sources),
        _Piece("setup: make the tools importable", glue, glue_policy()),
    ]


def _step_pieces(run: Run) -> list[_Piece]:
    return [
        _Piece(f"{record.index}. {record.step.title}", record.code)
        for record in run.steps
        if record.code and record.status == "ok"
    ]
