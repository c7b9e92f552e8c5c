"""`/agentforge/api/training`: training jobs, through the server's one
`agentforge_jupyter.training.TrainingJobs` (`Services.training()`, the same API the CLI and the
magics use): list, detail, the event stream, start and cancel. The training package is imported
only when a request needs it; without it every route answers 501."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from tornado import web

from .base import AgentForgeHandler, ApiError, check_id
from .sse import EventStreamHandler

if TYPE_CHECKING:
    from ..training import TrainingJobs

T = TypeVar("T")


def training_jobs(handler: AgentForgeHandler) -> TrainingJobs:
    try:
        return handler.services.training()
    except ImportError as exc:
        raise ApiError(
            501,
            "training is not available in this installation (agentforge_jupyter.training "
            f"cannot be imported: {exc}); install the training extra",
        ) from exc


async def call(function: Callable[..., T], *args: Any) -> T:
    """Run a `TrainingJobs` method in a worker thread (it reads files and may take a job's
    lock), with its errors as answers: an unknown job is 404, an unreadable job.json a 500
    that names the file; the other training errors are AgentForgeErrors (400)."""
    from ..training import CorruptJobError, UnknownJobError  # importable: TrainingJobs is

    try:
        return await asyncio.to_thread(function, *args)
    except UnknownJobError as exc:
        raise ApiError(404, str(exc)) from exc
    except CorruptJobError as exc:
        raise ApiError(500, str(exc)) from exc


class JobsHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self) -> None:
        self.send(await call(training_jobs(self).list))

    @web.authenticated
    async def post(self) -> None:
        spec = self.json_body()
        job_id = await call(training_jobs(self).start, spec)
        self.send({"id": job_id}, status=202)


class JobHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self, ident: str) -> None:
        job_id = check_id(ident, "training job")
        self.send(await call(training_jobs(self).get, job_id))


class JobEventsHandler(EventStreamHandler):
    @web.authenticated
    async def get(self, ident: str) -> None:
        job_id = check_id(ident, "training job")
        after = self.after_seq()
        jobs = training_jobs(self)
        await call(jobs.get, job_id)  # 404 (or 500) before the stream starts
        self.keepalive_s = self.services.config.keepalive_s
        await self.send_events(jobs.follow_async(job_id, after))


class CancelHandler(AgentForgeHandler):
    @web.authenticated
    async def post(self, ident: str) -> None:
        job_id = check_id(ident, "training job")
        await call(training_jobs(self).cancel, job_id)
        self.send({"id": job_id, "cancelling": True}, status=202)
