"""The server extension: configuration, the services the handlers share, and the routes.

Loaded by `jupyter lab` / `jupyter server` through `_jupyter_server_extension_points` (enabled
on install by `jupyter-config/server-config/agentforge_jupyter.json`). An `ExtensionApp`, because
only those are told when the server stops: runs still going are then cancelled and recorded."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from traitlets import Float, Int, Unicode
from traitlets.config import Configurable

from ..state import StateDir
from .run_manager import RunManager

if TYPE_CHECKING:
    from ..training import TrainingJobs

log = logging.getLogger(__name__)

API_PREFIX = "agentforge/api"


class AgentForgeServer(Configurable):
    """Settings of the AgentForge server extension (`c.AgentForgeServer.<name>` in
    jupyter_server_config.py)."""

    state_dir = Unicode(
        "",
        help="State directory (datasets, tools, brains, runs, training). Empty: the same "
        "directory as the CLI and the magics (AGENTFORGE_STATE_DIR, or ./state).",
    ).tag(config=True)
    max_upload_mb = Float(
        200.0, help="Largest dataset file accepted by POST /agentforge/api/datasets, in MiB."
    ).tag(config=True)
    max_active_runs = Int(
        4, help="Runs this server executes at once; more are refused with 429 until one ends."
    ).tag(config=True)
    default_steps = Int(8, help="Plan steps a run may execute when the request names none.").tag(
        config=True
    )
    keepalive_s = Float(
        15.0, help="Seconds between keep-alive comments on an idle event stream."
    ).tag(config=True)


@dataclass
class Services:
    """What the handlers reach through `self.services` (one per server)."""

    state: StateDir
    runs: RunManager
    config: AgentForgeServer
    _training: TrainingJobs | None = field(default=None, repr=False)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.config.max_upload_mb * 1024 * 1024)

    def training(self) -> TrainingJobs:
        """The server's one `TrainingJobs`, made on first use: the runners it starts stay its
        children, known (and reaped) for the server's lifetime. Raises ImportError when the
        training package cannot be imported."""
        if self._training is None:
            from ..training import TrainingJobs

            self._training = TrainingJobs(self.state)
        return self._training


def routes(base_url: str) -> list[tuple[str, Any]]:
    from . import brains, datasets, runs, tools, training

    name = r"(?P<name>[^/]+)"
    ident = r"(?P<ident>[^/]+)"
    table: list[tuple[str, Any]] = [
        ("datasets", datasets.DatasetsHandler),
        (f"datasets/{name}/preview", datasets.PreviewHandler),
        (f"datasets/{name}/profile", datasets.ProfileHandler),
        (f"datasets/{name}", datasets.DatasetHandler),
        ("tools", tools.ToolsHandler),
        ("tools/search", tools.SearchHandler),
        (f"tools/{name}/deprecate", tools.DeprecateHandler),
        (f"tools/{name}", tools.ToolHandler),
        ("brains", brains.BrainsHandler),
        (f"brains/{name}/models", brains.ModelsHandler),
        ("runs", runs.RunsHandler),
        (f"runs/{ident}/events", runs.RunEventsHandler),
        (f"runs/{ident}/cancel", runs.CancelHandler),
        (f"runs/{ident}/export", runs.ExportHandler),
        (f"runs/{ident}", runs.RunHandler),
        ("training", training.JobsHandler),
        (f"training/{ident}/events", training.JobEventsHandler),
        (f"training/{ident}/cancel", training.CancelHandler),
        (f"training/{ident}", training.JobHandler),
    ]
    return [(url_path_join(base_url, API_PREFIX, path) + "/?$", handler) for path, handler in table]


def load(serverapp: Any) -> Services:
    """Register the handlers on a running ServerApp; returns the services they share."""
    config = AgentForgeServer(parent=serverapp)
    state = StateDir(config.state_dir or None)
    services = Services(
        state=state,
        runs=RunManager(
            state, max_active=config.max_active_runs, default_steps=config.default_steps
        ),
        config=config,
    )
    web_app = serverapp.web_app
    web_app.settings["agentforge"] = services
    web_app.add_handlers(".*$", routes(web_app.settings["base_url"]))
    serverapp.log.info("AgentForge API at %s (state %s)", API_PREFIX, state.root)
    return services


class AgentForgeExtension(ExtensionApp):
    """The extension's life cycle in the server: `load` when it starts, and when it stops,
    every run still going is cancelled (recorded as such, sandbox shut down, streams ended)."""

    name = "agentforge_server"  # also a web_app settings key: not "agentforge" (the services)
    load_other_extensions = True
    services: Services | None = None

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        self.services = load(self.serverapp)

    async def stop_extension(self) -> None:
        if self.services is not None:
            await self.services.runs.shutdown()
