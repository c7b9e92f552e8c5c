"""The export's code cells other than the steps: parameters, data set-up and tools.

Each is gated on the host (`gate.gate_code`) at the moment it is written, like the steps. The
data location is a papermill-style `parameters` cell at the top, so that a reader can point
the notebook at their copy of the data; a run's own values enter it only as `repr` literals.
"""

from __future__ import annotations

import keyword
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..agent import Run
from ..gate import GatedCode, gate_code
from ..lint import LintPolicy
from ..sandbox.bootstrap import dataset_load_code
from ..sanitize import comment

if TYPE_CHECKING:
    from ..tools import ToolRegistry

__all__ = [
    "DataSource",
    "GatedPiece",
    "data_location",
    "gate",
    "parameters_code",
    "setup_code",
    "tool_pieces",
    "tool_setup",
]

PATH_PARAMETER = "data_path"
_SENTINEL = "\x00agentforge-data-path\x00"


@dataclass(frozen=True)
class DataSource:
    """Where the exported notebook reads its data: `location` as written (relative or absolute)."""

    location: str
    format: str
    variable: str


@dataclass(frozen=True)
class GatedPiece:
    """One code cell: its role, what the gate made of it."""

    role: str
    gated: GatedCode
    reasons: list[str] = field(default_factory=list)


def parameters_code(source: DataSource) -> str:
    return "\n".join(
        [
            comment("Parameters (papermill can override them): where the data file is,"),
            comment("relative to this notebook's folder unless absolute."),
            f"{PATH_PARAMETER} = {source.location!r}",
            "",
        ]
    )


def setup_code(source: DataSource | None) -> str:
    """Plain pandas code that loads the data from the parameter (the sandbox's lines)."""
    if source is None:
        return "import pandas as pd\nimport matplotlib.pyplot as plt\n"
    variable = source.variable
    if not variable.isidentifier() or keyword.iskeyword(variable):
        variable = "df"
    # The loader writes the path as a literal; the notebook reads it from the parameter.
    code = dataset_load_code(_SENTINEL, source.format, variable)
    return code.replace(repr(_SENTINEL), PATH_PARAMETER)


def gate(role: str, source: str, policy: LintPolicy | None = None) -> GatedPiece:
    gated = gate_code(source, policy)
    return GatedPiece(role=role, gated=gated, reasons=gated.reasons() if gated.blocked else [])


def tool_pieces(run: Run) -> list[GatedPiece]:
    """The registry tools the steps import: their sources (default policy), then the glue."""
    from ..state import StateDir
    from ..tools import ToolRegistry
    from ..tools.package import glue_policy

    root = getattr(run, "state_root", None) or (
        Path(run.run_dir).parents[1] if run.run_dir is not None else None
    )
    if root is None:
        return []
    setup = tool_setup(run, lambda: ToolRegistry(StateDir(root)))
    if setup is None:
        return []
    sources, glue = setup
    return [gate("tools", sources), gate("tools", glue, glue_policy())]


def tool_setup(run: Run, open_registry: Callable[[], ToolRegistry]) -> tuple[str, str] | None:
    """The registry tools `run`'s steps import, in the versions the run used, as two cells:
    their sources, then the glue that makes `from agentforge_tools import NAME` work in a plain
    kernel (AgentForge's text around validated names; lint it with `glue_policy()`). None when
    the steps import no tool (the registry is then not opened)."""
    from ..tools import tool_sources_for_export, tools_used_in
    from ..tools.package import importable_glue

    names = tools_used_in("\n".join(r.code for r in run.steps if r.code))
    if not names:
        return None
    versions = {t["name"]: t.get("version") for t in run.tools}
    refs = [f"{n}@{versions[n]}" if versions.get(n) else n for n in names]
    registry = open_registry()
    sources = tool_sources_for_export(refs, registry, importable=False)
    return sources, importable_glue(registry.get(ref).name for ref in refs)


def data_location(data_file: str | os.PathLike[str], notebook: Path | None) -> str:
    """The file's name when it sits next to the notebook (Jupyter runs a notebook in its own
    folder), else its absolute path."""
    absolute = Path(data_file).expanduser().absolute()
    if notebook is not None and absolute.parent == notebook.parent:
        return absolute.name
    return str(absolute)
