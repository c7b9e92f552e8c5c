"""A run as an nbformat 4 notebook that re-runs in a plain kernel without AgentForge.

Cells: a title (goal, dataset, brain and model, time, and advice for readers who received the
notebook), the plan, a `parameters` cell holding the data location, a setup cell that loads the
data with plain pandas, the tools the steps import, then per step a markdown cell and a code
cell with its recorded outputs, and the insights. Every code cell is gated on the host: a cell
with a lint error is written commented out with its findings, and listed in
`metadata.agentforge.blocked_cells`. `metadata.agentforge` holds provenance.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

from .._version import __version__
from ..agent import Run, StepRecord
from ..errors import AgentForgeError
from .code import DataSource, GatedPiece, data_location, gate, parameters_code, setup_code
from .code import tool_pieces as _tool_pieces
from .markdown import (
    earlier_markdown,
    insights_markdown,
    iso,
    plan_markdown,
    step_markdown,
    title_markdown,
)
from .outputs import outputs_for
from .session import EarlierRuns, earlier_runs

__all__ = ["ExportError", "provenance", "run_to_notebook"]

_FAILED_TAG = "raises-exception"  # nbclient lets a cell with this tag raise


class ExportError(AgentForgeError):
    """A run cannot be exported (no plan yet, the dataset file cannot be named, a bad path)."""


def run_to_notebook(
    run: Run,
    *,
    dataset_path: str | os.PathLike[str] | None = None,
    dataset_format: str | None = None,
    notebook_path: str | os.PathLike[str] | None = None,
) -> nbformat.NotebookNode:
    """The notebook for `run` (see module docs), not yet written.

    `dataset_path` overrides where the notebook reads the data (default: the file the run
    analysed); it is written relative to `notebook_path`'s folder when it lies there."""
    if run.plan is None:
        raise ExportError(
            f"run {run.run_id} has no plan (status {run.status}: {run.reason}); nothing to export"
        )
    where = Path(notebook_path).expanduser().absolute() if notebook_path is not None else None
    source = _data_source(run, dataset_path, dataset_format, where)
    builder = _Builder()
    builder.markdown(title_markdown(run, _data_note(source)))
    builder.markdown(plan_markdown(run))
    if source is not None:
        builder.code(gate("parameters", parameters_code(source)), tags=["parameters"])
    builder.code(gate("setup", setup_code(source)))
    earlier = earlier_runs(run)
    with_earlier = dataclasses.replace(
        run,
        steps=[s for r in earlier.runs for s in r.steps if s.status == "ok"] + run.steps,
        tools=[t for r in earlier.runs for t in r.tools] + run.tools,
    )
    for piece in _tool_pieces(with_earlier):  # the tools this run's and the earlier steps use
        builder.code(piece)
    builder.earlier(earlier)
    for record in run.steps:
        builder.step(record)
    if run.insights_text:
        builder.markdown(insights_markdown(run.insights_text))
    notebook = v4.new_notebook(cells=builder.cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.metadata["agentforge"] = {**provenance(run), "blocked_cells": builder.blocked}
    return notebook


class _Builder:
    """Collects cells; numbers code cells in order; records the cells the gate blocked."""

    def __init__(self) -> None:
        self.cells: list[Any] = []
        self.blocked: list[dict[str, Any]] = []
        self.count = 0

    def markdown(self, text: str) -> None:
        self.cells.append(v4.new_markdown_cell(text))

    def code(self, piece: GatedPiece, tags: list[str] | None = None) -> Any:
        metadata: dict[str, Any] = {"agentforge": {"role": piece.role}}
        if tags:
            metadata["tags"] = list(tags)
        return self._add(piece, metadata, executed=True)

    def earlier(self, earlier: EarlierRuns) -> None:
        """The successful steps of the session's earlier runs, whose variables this run uses."""
        if not earlier.runs and not earlier.other_data:
            return
        self.markdown(earlier_markdown(earlier.runs, earlier.other_data))
        for other in earlier.runs:
            for record in other.steps:
                if record.status != "ok" or not record.code:
                    continue
                piece = gate("earlier", record.code.rstrip("\n"))
                meta = {"role": "earlier", "run_id": other.run_id, "earlier_step": record.step.id}
                self._add(piece, {"agentforge": meta}, executed=True)

    def step(self, record: StepRecord) -> None:
        piece = gate("step", record.code.rstrip("\n")) if record.code else None
        self.markdown(step_markdown(record, piece.reasons if piece else []))
        if piece is None:
            return
        metadata: dict[str, Any] = {
            "agentforge": {
                "step": record.step.id,
                "status": record.status,
                "attempts": len(record.attempts),
            }
        }
        if record.status != "ok" and not piece.gated.blocked:
            metadata["tags"] = [_FAILED_TAG]
        cell = self._add(piece, metadata, executed=record.result is not None)
        if record.result is not None:
            cell.outputs = outputs_for(record.result, cell.execution_count)

    def _add(self, piece: GatedPiece, metadata: dict[str, Any], *, executed: bool) -> Any:
        if piece.gated.blocked:
            metadata["agentforge"]["blocked"] = list(piece.reasons)
            entry = {"cell": len(self.cells), "role": piece.role, "reasons": list(piece.reasons)}
            if "step" in metadata["agentforge"]:
                entry["step"] = metadata["agentforge"]["step"]
            self.blocked.append(entry)
        cell = v4.new_code_cell(piece.gated.source, metadata=metadata)
        if executed:
            self.count += 1
            cell.execution_count = self.count
        self.cells.append(cell)
        return cell


def _data_source(
    run: Run,
    path: str | os.PathLike[str] | None,
    fmt: str | None,
    notebook: Path | None,
) -> DataSource | None:
    ref = run.dataset
    if ref is None:
        return None
    source = path if path is not None else ref.path
    fmt = fmt or ref.format
    if source is None or fmt is None:
        raise ExportError(
            f"the run's dataset {ref.name!r} has no file; pass dataset_path= (and dataset_format=)"
        )
    return DataSource(data_location(source, notebook), fmt, ref.variable)


def _data_note(source: DataSource | None) -> str:
    if source is None:
        return "The run used no dataset."
    if Path(source.location).is_absolute():
        return (
            "The data is read from the absolute path in the parameters cell below; change it "
            "to where your copy of the file is."
        )
    return "The data file sits next to this notebook (see the parameters cell below)."


def provenance(run: Run) -> dict[str, Any]:
    """What `metadata.agentforge` records: who wrote what, when, and how it went."""
    return {
        "run_id": run.run_id,
        "goal": run.goal,
        "status": run.status,
        "reason": run.reason,
        "brain": run.brain,
        "brain_kind": run.brain_kind,
        "model": run.model,
        "dataset": run.dataset.to_dict() if run.dataset else None,
        "started": iso(run.started),
        "duration_s": round(run.duration_s, 3),
        "brain_s": round(run.brain_s, 3),
        "exec_s": round(run.exec_s, 3),
        "brain_calls": run.brain_calls,
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
        "prompt_hashes": [h for h in run.prompt_hashes if h],
        "isolation": run.isolation,
        "steps": [
            {
                "id": r.step.id,
                "title": r.step.title,
                "status": r.status,
                "attempts": len(r.attempts),
                "repairs": r.repairs,
                "duration_s": round(r.duration_s, 3),
                "exec_s": round(r.result.duration_s, 3) if r.result else None,
                "lint": [a.findings for a in r.attempts],
            }
            for r in run.steps
        ],
        "agentforge_version": __version__,
    }
