"""`/agentforge/api/training`: training jobs. Reading (list, detail, the event stream) uses the
job files the training package writes (`state/training/<id>/job.json` and `events.jsonl`, see
HELPERS' training job contract); starting and cancelling call
`agentforge_jupyter.training.TrainingJobs`, imported only when needed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tornado import web

from ..state import read_jsonl
from .base import AgentForgeHandler, ApiError, check_id
from .sse import EventStreamHandler

JOB_FILE = "job.json"
EVENTS_FILE = "events.jsonl"
TERMINAL = frozenset({"completed", "failed", "cancelled"})
POLL_S = 0.1


def _jobs_dir(handler: AgentForgeHandler) -> Path:
    return handler.services.state.root / "training"


def read_job(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / JOB_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ApiError(404, f"no training job {directory.name!r}") from None
    except ValueError as exc:
        raise ApiError(500, f"{directory / JOB_FILE} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ApiError(500, f"{directory / JOB_FILE} is not a JSON object")
    return data


def list_jobs(root: Path) -> list[dict[str, Any]]:
    jobs = []
    for path in sorted(root.iterdir()) if root.is_dir() else []:
        if (path / JOB_FILE).is_file():
            try:
                jobs.append(read_job(path))
            except ApiError:
                continue  # a job being written for the first time; it shows up next time
    return sorted(jobs, key=lambda j: str(j.get("created", "")), reverse=True)


async def follow_job(directory: Path, after_seq: int = -1) -> AsyncIterator[dict[str, Any]]:
    """Records with `seq > after_seq` as they are appended; ends once the job is in a final
    state and everything it wrote has been read."""
    offset = 0
    while True:
        finished = str(read_job(directory).get("status")) in TERMINAL
        result = read_jsonl(directory / EVENTS_FILE, offset)
        offset = result.next_offset
        for record in result.records:
            seq = record.get("seq") if isinstance(record, dict) else None
            if isinstance(seq, int) and seq > after_seq:
                yield record
        # Status read before the file: a final status means the last lines are already there.
        if finished and not result.truncated:
            return
        await asyncio.sleep(POLL_S)


def training_jobs(handler: AgentForgeHandler) -> Any:
    try:
        from ..training import TrainingJobs
    except ImportError as exc:
        raise ApiError(
            501,
            "training is not available in this installation (agentforge_jupyter.training "
            f"cannot be imported: {exc}); install the training extra",
        ) from exc
    return TrainingJobs(handler.services.state)


class JobsHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self) -> None:
        self.send(await asyncio.to_thread(list_jobs, _jobs_dir(self)))

    @web.authenticated
    async def post(self) -> None:
        spec = self.json_body()
        jobs = training_jobs(self)
        job_id = await asyncio.to_thread(jobs.start, spec)
        self.send({"id": job_id}, status=202)


class JobHandler(AgentForgeHandler):
    @web.authenticated
    async def get(self, ident: str) -> None:
        directory = _jobs_dir(self) / check_id(ident, "training job")
        self.send(await asyncio.to_thread(read_job, directory))


class JobEventsHandler(EventStreamHandler):
    @web.authenticated
    async def get(self, ident: str) -> None:
        directory = _jobs_dir(self) / check_id(ident, "training job")
        after = self.after_seq()
        read_job(directory)  # 404 before the stream starts
        self.keepalive_s = self.services.config.keepalive_s
        await self.send_events(follow_job(directory, after))


class CancelHandler(AgentForgeHandler):
    @web.authenticated
    async def post(self, ident: str) -> None:
        job_id = check_id(ident, "training job")
        read_job(_jobs_dir(self) / job_id)
        jobs = training_jobs(self)
        await asyncio.to_thread(jobs.cancel, job_id)
        self.send({"id": job_id, "cancelling": True}, status=202)
