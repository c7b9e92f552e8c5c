"""Run any notebook inside the sandbox kernel, cell by cell, and keep its outputs.

For a notebook that comes from someone else (an AgentForge export, a downloaded analysis): its
code runs in the isolated kernel instead of with the user's rights. Like nbclient, execution
stops at the first failing cell unless the cell is tagged `raises-exception`. With a dataset,
the data is mounted read-only, loaded as `df`, and, when the notebook has a papermill-style
`parameters` cell, a cell tagged `injected-parameters` after it points `data_path` at the
mounted file (as papermill does).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

from .errors import AgentForgeError
from .export import outputs_for
from .export.code import PATH_PARAMETER
from .sandbox import ExecutionResult, KernelSandbox
from .state.files import atomic_write_bytes, new_file_mode

__all__ = [
    "NotebookRunError",
    "NotebookRunResult",
    "RunData",
    "read_notebook",
    "run_notebook",
    "run_notebook_file",
]

ALLOW_ERRORS_TAG = "raises-exception"
INJECTED_TAG = "injected-parameters"


class NotebookRunError(AgentForgeError):
    """The notebook cannot be read or written (not a failing cell: that is a result)."""


@dataclass(frozen=True)
class RunData:
    """A dataset to mount: the folder that holds it, its file name and format (only the file
    itself is mounted)."""

    directory: str
    file_name: str
    format: str


@dataclass
class NotebookRunResult:
    notebook: Any
    executed: int = 0
    failed_cell: int | None = None  # index in notebook.cells
    failure: str = ""  # "ZeroDivisionError: division by zero", or the status
    isolation: str = ""

    @property
    def ok(self) -> bool:
        return self.failed_cell is None


def read_notebook(path: str | os.PathLike[str]) -> Any:
    try:
        notebook = nbformat.read(os.fspath(path), as_version=4)
        nbformat.validate(notebook)
    except FileNotFoundError as exc:
        raise NotebookRunError(f"{path}: no such notebook") from exc
    except (OSError, ValueError, nbformat.ValidationError) as exc:
        raise NotebookRunError(f"{path} is not a valid notebook: {exc}") from exc
    return notebook


async def run_notebook(
    notebook: Any,
    *,
    data: RunData | None = None,
    timeout: float = 60.0,
    sandbox_settings: dict[str, Any] | None = None,
) -> NotebookRunResult:
    """Execute `notebook`'s code cells in a new sandbox; outputs are written into it."""
    # Only the one dataset file is mounted (read-only), never the folder that holds it.
    files = [os.path.join(data.directory, data.file_name)] if data else []
    settings: dict[str, Any] = {"dataset_files": files, **(sandbox_settings or {})}
    if data is not None:
        _inject_parameters(notebook, data)
    result = NotebookRunResult(notebook)
    async with KernelSandbox(**settings) as sandbox:
        result.isolation = sandbox.isolation.level if sandbox.isolation else ""
        if data is not None:
            await sandbox.load_dataset(data.file_name, data.format)
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            outcome = await sandbox.execute(cell.source, timeout=timeout)
            result.executed += 1
            cell.execution_count = result.executed
            cell.outputs = outputs_for(outcome, result.executed)
            if not outcome.ok and ALLOW_ERRORS_TAG not in cell.metadata.get("tags", []):
                result.failed_cell, result.failure = index, _failure(outcome)
                break
    notebook.metadata.setdefault("agentforge", {})["sandbox_run"] = {
        "isolation": result.isolation,
        "executed": result.executed,
        "failed_cell": result.failed_cell,
    }
    return result


def _inject_parameters(notebook: Any, data: RunData) -> None:
    cells = notebook.cells
    where = next(
        (i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])), None
    )
    if where is None:
        return
    source = f"{PATH_PARAMETER} = {f'data/{data.file_name}'!r}\n"
    cell = v4.new_code_cell(source, metadata={"tags": [INJECTED_TAG]})
    cells.insert(where + 1, cell)


def _failure(outcome: ExecutionResult) -> str:
    if outcome.error is not None:
        return f"{outcome.error.name}: {outcome.error.value}"
    notes = "; ".join(outcome.notes)
    return f"{outcome.status}" + (f" ({notes})" if notes else "")


def run_notebook_file(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    data: RunData | None = None,
    timeout: float = 60.0,
) -> NotebookRunResult:
    """Read, execute in the sandbox, and write the executed notebook to `output` (always, also
    when a cell failed: the outputs up to the failure are what the user needs to see)."""
    notebook = read_notebook(path)
    target = Path(output).expanduser().absolute()
    if target.suffix != ".ipynb":
        raise NotebookRunError(f"--output {output}: the path must end in .ipynb")
    result = asyncio.run(run_notebook(notebook, data=data, timeout=timeout))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Never through a link: a received folder can hold one at any name beside the notebook.
    written = nbformat.writes(result.notebook).encode("utf-8")
    atomic_write_bytes(target, written, durable=False, mode=new_file_mode())
    return result
