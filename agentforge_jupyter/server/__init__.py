"""Jupyter server extension: the REST + SSE API behind the JupyterLab side panel.

Handlers are thin: they call the same services as the CLI and the magics (DatasetRegistry,
ToolRegistry, BrainRegistry, Agent and its run records, export). docs/server.md lists the routes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["_jupyter_server_extension_points"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .extension import AgentForgeExtension

    return [{"module": "agentforge_jupyter.server", "app": AgentForgeExtension}]
