"""AgentForge for Jupyter: LLM data analysts whose code runs in an isolated sandbox kernel.

    from agentforge_jupyter import Agent
    run = Agent(brain="offline", dataset="sales_q3").run("which region drove Q3 revenue?")

Names are imported lazily: the sandbox launcher imports this package inside the sandbox before
the kernel starts, and must not pay for pandas or jupyter_client there; `agentforge --version`
and `agentforge lint` must start fast. Nothing here imports more than `importlib` (not even
`typing`: annotations stay strings).
"""

from __future__ import annotations

import importlib

from ._version import __version__

TYPE_CHECKING = False  # `typing` itself is not imported at run time: it costs start-up time
if TYPE_CHECKING:
    from typing import Any

_EXPORTS = {
    "Agent": "agent",
    "AgentSession": "agent",
    "Run": "agent",
    "RunLimits": "agent",
    "DatasetRegistry": "datasets",
    "ToolRegistry": "tools",
    "BrainRegistry": "brains.registry",
    "KernelSandbox": "sandbox",
    "SyncSandbox": "sandbox",
    "SandboxConfig": "sandbox",
    "export_notebook": "export",
}

__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext agentforge_jupyter` registers the AgentForge magics."""
    from .magics import register_magics

    register_magics(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unregister_magics

    unregister_magics(ipython)
