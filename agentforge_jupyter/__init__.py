"""AgentForge for Jupyter: LLM data analysts whose code runs in an isolated sandbox kernel."""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext agentforge_jupyter` registers the AgentForge magics."""
    from .magics import register_magics

    register_magics(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unregister_magics

    unregister_magics(ipython)
