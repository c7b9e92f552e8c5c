"""Writing exports: a notebook file, or a shareable folder (the notebook and a copy of its data).

`check_export_target` runs before an analysis so that a bad `--export` fails at once, not after
the whole run. A target that names a directory (one that exists, or a path ending in `/`) gets
the notebook and a copy of the data file beside it, read through a relative path; any other
target must end in `.ipynb`.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..agent import Run
from ..state.files import atomic_write_bytes, new_file_mode
from .notebook import ExportError, run_to_notebook

__all__ = ["ExportResult", "ExportTarget", "check_export_target", "export_notebook", "write_export"]

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ExportTarget:
    """Where an export goes: a notebook `path`, or a `directory` for notebook plus data."""

    path: Path | None = None
    directory: Path | None = None


@dataclass
class ExportResult:
    notebook: Path
    data: Path | None = None
    blocked: list[dict[str, Any]] = field(default_factory=list)

    def blocked_lines(self) -> list[str]:
        """One line per blocked cell, for telling the user why."""
        return [
            f"cell {b['cell']} ({b.get('step') or b['role']}): " + "; ".join(b["reasons"])
            for b in self.blocked
        ]


def check_export_target(spec: str | os.PathLike[str]) -> ExportTarget:
    """The target `spec` names, or ExportError saying what to pass instead."""
    text = os.fspath(spec)
    target = Path(text).expanduser().absolute()
    if text.endswith(("/", os.sep)) or target.is_dir():
        _check_writable(target, text)
        return ExportTarget(directory=target)
    if target.suffix != ".ipynb":
        raise ExportError(
            f"--export {text}: name a notebook ending in .ipynb, or a directory (ending in /) "
            "for the notebook plus a copy of its data"
        )
    if target.exists() and not os.access(target, os.W_OK):
        raise ExportError(f"--export {text}: the file exists and is not writable")
    _check_writable(target.parent, text)
    return ExportTarget(path=target)


def _check_writable(directory: Path, spec: str) -> None:
    folder = directory
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"--export {spec}: cannot create files under {folder}")


def export_notebook(
    run: Run,
    path: str | os.PathLike[str],
    *,
    dataset_path: str | os.PathLike[str] | None = None,
    dataset_format: str | None = None,
) -> Path:
    """Write `run` as an .ipynb at `path` (or into a directory, see the module docs)."""
    return write_export(
        run, path, dataset_path=dataset_path, dataset_format=dataset_format
    ).notebook


def write_export(
    run: Run,
    target: ExportTarget | str | os.PathLike[str],
    *,
    dataset_path: str | os.PathLike[str] | None = None,
    dataset_format: str | None = None,
) -> ExportResult:
    """Write the export; the result names the files and the cells the host-side gate blocked."""
    if not isinstance(target, ExportTarget):
        target = check_export_target(target)
    data: Path | None = None
    if target.directory is not None:
        target.directory.mkdir(parents=True, exist_ok=True)
        notebook_path = target.directory / f"{_slug(run.goal)}-{_run_tag(run)}.ipynb"
        data = _copy_data(run, target.directory, dataset_path)
        dataset_path = data if data is not None else dataset_path
    else:
        assert target.path is not None
        notebook_path = target.path
        notebook_path.parent.mkdir(parents=True, exist_ok=True)
    notebook = run_to_notebook(
        run, dataset_path=dataset_path, dataset_format=dataset_format, notebook_path=notebook_path
    )
    nbformat.validate(notebook)
    # As `agentforge run` writes its notebook: exclusively, never through a planted link.
    written = nbformat.writes(notebook).encode("utf-8")
    atomic_write_bytes(notebook_path, written, durable=False, mode=new_file_mode())
    return ExportResult(notebook_path, data, list(notebook.metadata["agentforge"]["blocked_cells"]))


def _copy_data(run: Run, directory: Path, override: str | os.PathLike[str] | None) -> Path | None:
    source = override if override is not None else (run.dataset.path if run.dataset else None)
    if source is None:
        return None
    source_path = Path(source).expanduser()
    if not source_path.is_file():
        raise ExportError(
            f"the run's data file {source_path} is gone; re-register the dataset, or export "
            "to a .ipynb path and point the notebook's data_path parameter at a copy"
        )
    name = _UNSAFE_NAME.sub("_", source_path.name).lstrip(".") or "data"
    copy = directory / name
    if copy.exists() and not filecmp.cmp(copy, source_path, shallow=False):
        # Another export's data of the same name: keep it, and name this copy after the run.
        copy = directory / f"{Path(name).stem}-{_run_tag(run)}{Path(name).suffix}"
    if not copy.exists():
        _copy_exclusively(source_path, copy)
    return copy


def _copy_exclusively(source: Path, copy: Path) -> None:
    """Stream `source` (data files can be large) into a new file beside `copy` under an
    unpredictable name, created exclusively (a link planted in a shared folder is never written
    through), then rename it into place; the temporary file is removed if anything fails."""
    fd, name = tempfile.mkstemp(prefix=f".{copy.name}.", suffix=".tmp", dir=copy.parent)
    tmp = Path(name)
    try:
        os.fchmod(fd, new_file_mode())  # mkstemp's 0600 would keep a shared folder's readers out
        with os.fdopen(fd, "wb") as handle, source.open("rb") as original:
            shutil.copyfileobj(original, handle)
        tmp.replace(copy)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _run_tag(run: Run) -> str:
    # The whole id: its first part is the date, so a prefix made two runs of a day collide.
    return _UNSAFE_NAME.sub("_", run.run_id).strip("._") or "run"


def _slug(text: str) -> str:
    slug = _UNSAFE_NAME.sub("-", text.lower()).strip("-.")
    return slug[:48].rstrip("-.") or "analysis"
