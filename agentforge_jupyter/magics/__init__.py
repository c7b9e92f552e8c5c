"""IPython magics: one module per family, all on the `StateMagics` base.

`%load_ext agentforge_jupyter` calls `register_magics`, which registers every class in
`MAGICS`; a new family (e.g. training) is a new module here plus one entry in that list. The
modules import only `base` and the services below them, never this package's registration.
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics

from .agent import AgentMagics, AgentRunFailed
from .base import StateMagics, help_cell_transform
from .datasets import DatasetMagics
from .eval import EvalMagics
from .tools import ToolMagics
from .training import TrainingMagics

MAGICS: list[type[Magics]] = [DatasetMagics, AgentMagics, ToolMagics, EvalMagics, TrainingMagics]

__all__ = [
    "MAGICS",
    "AgentMagics",
    "AgentRunFailed",
    "DatasetMagics",
    "EvalMagics",
    "StateMagics",
    "ToolMagics",
    "TrainingMagics",
    "register_magics",
    "unregister_magics",
]


def register_magics(ipython: Any) -> None:
    cell_magics: set[str] = set()
    for magics in MAGICS:
        instance = magics(shell=ipython)
        ipython.register_magics(instance)
        cell_magics |= set(instance.magics["cell"])
    transforms = ipython.input_transformers_cleanup
    transforms[:] = [t for t in transforms if not getattr(t, "agentforge_help", False)]
    transforms.append(help_cell_transform(cell_magics))


def unregister_magics(ipython: Any) -> None:
    # IPython has no public unregister; the magics simply stay until the kernel restarts.
    pass
