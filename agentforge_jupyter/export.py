"""A run as an ordinary notebook (nbformat 4) that re-runs in a plain kernel without AgentForge.

Cells: a title (goal, dataset, brain and model, time), the plan, a setup cell that loads the
dataset by absolute path with plain pandas (the same lines the sandbox ran), then per step a
markdown cell and a code cell with its recorded outputs, and the insights. Outputs are rebuilt
from the run's safe MIME data: PNGs, text, and tables as text plus an HTML table we generate
with every value escaped (never HTML from the sandbox). `metadata.agentforge` holds provenance.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

from ._version import __version__
from .agent import Run, StepRecord
from .errors import AgentForgeError
from .render import table_display_html
from .sandbox.bootstrap import dataset_load_code
from .sandbox.outputs import table_to_text
from .sandbox.result import PNG, TABLE, TEXT, ExecutionResult

__all__ = ["ExportError", "export_notebook", "outputs_for", "provenance", "run_to_notebook"]

_FAILED_TAG = "raises-exception"  # nbclient lets a cell with this tag raise


class ExportError(AgentForgeError):
    """A run cannot be exported (no plan yet, or the dataset file cannot be named)."""


def export_notebook(
    run: Run,
    path: str | os.PathLike[str],
    *,
    dataset_path: str | os.PathLike[str] | None = None,
    dataset_format: str | None = None,
) -> Path:
    """Write `run` as an .ipynb at `path` (parent directories created); returns the path.

    `dataset_path` overrides where the setup cell loads the data from (default: the file the
    run analysed, an absolute path in the state directory)."""
    notebook = run_to_notebook(run, dataset_path=dataset_path, dataset_format=dataset_format)
    target = Path(path).expanduser().absolute()
    if target.suffix != ".ipynb":
        raise ExportError(f"{target} must end in .ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(notebook)
    tmp = target.with_name(f".{target.name}.tmp")
    nbformat.write(notebook, str(tmp))
    tmp.replace(target)
    return target


def run_to_notebook(
    run: Run,
    *,
    dataset_path: str | os.PathLike[str] | None = None,
    dataset_format: str | None = None,
) -> nbformat.NotebookNode:
    """The notebook for `run` (see module docs), not yet written."""
    if run.plan is None:
        raise ExportError(
            f"run {run.run_id} has no plan (status {run.status}: {run.reason}); nothing to export"
        )
    cells = [v4.new_markdown_cell(_title(run)), v4.new_markdown_cell(_plan_markdown(run))]
    setup = _setup_code(run, dataset_path, dataset_format)
    if setup:
        cells.append(v4.new_code_cell(setup, metadata={"agentforge": {"role": "setup"}}))
    tools = _tools_code(run)
    if tools:
        cells.append(v4.new_code_cell(tools, metadata={"agentforge": {"role": "tools"}}))
    count = 1
    for record in run.steps:
        cells.append(v4.new_markdown_cell(_step_markdown(record)))
        if record.code:
            cells.append(_code_cell(record, count))
            count += 1
    if run.insights_text:
        cells.append(v4.new_markdown_cell("## Insights\n\n" + _md(run.insights_text)))
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.metadata["agentforge"] = provenance(run)
    return notebook


def _tools_code(run: Run) -> str:
    """Source of the registry tools the steps import, so the notebook needs no AgentForge."""
    from .tools import tool_sources_for_export, tools_used_in

    code = "\n".join(r.code for r in run.steps if r.code)
    names = tools_used_in(code)
    if not names or run.run_dir is None:
        return ""
    from .state import StateDir
    from .tools import ToolRegistry

    versions = {t["name"]: t.get("version") for t in run.tools}
    refs = [f"{n}@{versions[n]}" if versions.get(n) else n for n in names]
    return tool_sources_for_export(refs, ToolRegistry(StateDir(Path(run.run_dir).parents[1])))


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
        "started": _iso(run.started),
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


# --------------------------------------------------------------------------- cells


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))


def _md(text: str) -> str:
    """Model text in markdown: no raw HTML can reach the rendered notebook."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _title(run: Run) -> str:
    dataset = run.dataset.name if run.dataset else "(none)"
    lines = [
        f"# {_md(run.goal)}",
        "",
        f"- **Dataset:** {_md(dataset)}",
        f"- **Brain:** {_md(run.brain)} (model `{run.model}`)",
        f"- **Run:** `{run.run_id}`, {_iso(run.started)}, status **{run.status}**",
        "",
        "Exported by AgentForge for Jupyter. The code re-runs in a plain Python kernel.",
    ]
    if run.status != "ok" and run.reason:
        lines.insert(-2, f"- **Outcome:** {_md(run.reason)}")
    return "\n".join(lines)


def _plan_markdown(run: Run) -> str:
    assert run.plan is not None
    lines = ["## Plan", ""]
    for number, step in enumerate(run.plan.steps, start=1):
        lines.append(f"{number}. **{_md(step.title)}**")
        if step.rationale:
            lines.append(f"   {_md(step.rationale)}")
        if step.expected:
            lines.append(f"   *Expected:* {_md(step.expected)}")
    return "\n".join(lines)


def _setup_code(run: Run, path: str | os.PathLike[str] | None, fmt: str | None) -> str:
    ref = run.dataset
    if ref is None:
        return "import pandas as pd\nimport matplotlib.pyplot as plt\n"
    source = path if path is not None else ref.path
    fmt = fmt or ref.format
    if source is None or fmt is None:
        raise ExportError(
            f"the run's dataset {ref.name!r} has no file; pass dataset_path= (and dataset_format=)"
        )
    absolute = str(Path(source).expanduser().absolute())
    return dataset_load_code(absolute, fmt, ref.variable)


def _step_markdown(record: StepRecord) -> str:
    step = record.step
    lines = [f"## {record.index}. {_md(step.title)}"]
    if step.rationale:
        lines += ["", _md(step.rationale)]
    if record.repairs:
        lines += ["", f"*Repaired {record.repairs} time(s) before this version.*"]
    if record.status != "ok":
        lines += ["", f"**This step did not succeed (status: {record.status}).**"]
    return "\n".join(lines)


def _code_cell(record: StepRecord, count: int) -> nbformat.NotebookNode:
    metadata: dict[str, Any] = {
        "agentforge": {
            "step": record.step.id,
            "status": record.status,
            "attempts": len(record.attempts),
        }
    }
    result = record.result
    if record.status != "ok":
        metadata["tags"] = [_FAILED_TAG]
    cell = v4.new_code_cell(record.code.rstrip("\n"), metadata=metadata)
    if result is not None:
        cell.execution_count = count
        cell.outputs = outputs_for(result, count)
    return cell


def outputs_for(result: ExecutionResult, count: int | None = None) -> list[Any]:
    """Notebook outputs for an execution result, from safe MIME data only."""
    outputs: list[Any] = []
    for name in ("stdout", "stderr"):
        text = getattr(result, name)
        if text:
            outputs.append(v4.new_output("stream", name=name, text=text))
    for display in result.displays:
        data = _display_bundle(display.mime, display.data)
        if data:
            outputs.append(v4.new_output("display_data", data=data))
    if result.error is not None:
        outputs.append(
            v4.new_output(
                "error",
                ename=result.error.name,
                evalue=result.error.value,
                traceback=list(result.error.traceback),
            )
        )
    return outputs


def _display_bundle(mime: str, data: Any) -> dict[str, Any] | None:
    if mime == PNG and isinstance(data, str):
        return {PNG: data, TEXT: "<Figure>"}
    if mime == TABLE and isinstance(data, dict):
        return {
            TEXT: table_to_text(data, max_rows=len(data["rows"])),
            "text/html": table_display_html(data),
        }
    if mime == TEXT:
        return {TEXT: str(data)}
    return None
