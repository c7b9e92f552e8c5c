"""A run as an ordinary notebook (nbformat 4) that re-runs in a plain kernel without AgentForge.

`notebook` builds the cells (every code cell gated on the host, every text cell sanitised),
`writer` writes a notebook file or a shareable folder with a copy of the data, `outputs`
rebuilds outputs from the run's safe MIME data.
"""

from __future__ import annotations

from .notebook import ExportError, provenance, run_to_notebook
from .outputs import outputs_for
from .writer import (
    ExportResult,
    ExportTarget,
    check_export_target,
    export_notebook,
    write_export,
)

__all__ = [
    "ExportError",
    "ExportResult",
    "ExportTarget",
    "check_export_target",
    "export_notebook",
    "outputs_for",
    "provenance",
    "run_to_notebook",
    "write_export",
]
