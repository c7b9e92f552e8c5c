"""`/agentforge/api/runs`: start a run (answers at once with its id), list, detail, the live
event stream (SSE), cancel, and the exported notebook."""

from __future__ import annotations

import nbformat
from tornado import web

from ..export import run_to_notebook
from .base import AgentForgeHandler, ApiError, check_id
from .sse import EventStreamHandler


class RunsHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self) -> None:
        limit = self.int_argument("limit", 100, 1, 10_000)
        self.send(await self.services.runs.list(limit))

    @web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        for key in ("dataset", "brain"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise ApiError(400, f'"{key}" must be a name (a string)')
        run_id = await self.services.runs.start(
            body.get("goal"),
            dataset=body.get("dataset"),
            brain=body.get("brain"),
            steps=body.get("steps"),
        )
        self.send({"id": run_id}, status=202)


class RunHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self, ident: str) -> None:
        self.send(await self.services.runs.get(check_id(ident, "run")))


class RunEventsHandler(EventStreamHandler):
    @web.authenticated
    async def get(self, ident: str) -> None:
        run_id = check_id(ident, "run")
        after = self.after_seq()
        runs = self.services.runs
        self.keepalive_s = self.services.config.keepalive_s
        active = runs.active(run_id)
        if active is not None:  # executing here: straight from its broadcast
            await self.send_broadcast(active.broadcast, after)
            return
        runs.run_dir(run_id)  # 404 before the stream starts
        await self.send_events(runs.events(run_id, after))


class CancelHandler(AgentForgeHandler):
    @web.authenticated
    async def post(self, ident: str) -> None:
        self.send(self.services.runs.cancel(check_id(ident, "run")), status=202)


class ExportHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self, ident: str) -> None:
        run = self.services.runs.finished_run(check_id(ident, "run"))
        notebook = run_to_notebook(run)
        nbformat.validate(notebook)
        self.set_header("Content-Type", "application/x-ipynb+json")
        self.set_header(
            "Content-Disposition", f'attachment; filename="agentforge-{run.run_id}.ipynb"'
        )
        self.finish(nbformat.writes(notebook))
