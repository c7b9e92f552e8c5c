"""Helpers for the server-extension tests and the benchmark: a small Server-Sent Events client
(real HTTP over loopback with tornado's client, records parsed as they stream in) and training
job files written exactly as the training job contract says."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from agentforge_jupyter.state import append_jsonl, atomic_write_bytes


@dataclass
class SseRecord:
    id: int | None
    data: dict[str, Any]
    received: float  # time.time() when the record's last line arrived


@dataclass
class SseStream:
    _records: list[SseRecord] = field(default_factory=list)
    _raw: list[tuple[str, float]] = field(default_factory=list)
    comments: int = 0
    status: int = 0
    content_type: str = ""
    _buffer: str = ""

    def feed(self, chunk: bytes) -> None:
        # Only split and time-stamp here; parsing waits, so that a client following many
        # streams at once does not count its own JSON work as delivery delay.
        now = time.time()
        self._buffer += chunk.decode("utf-8")
        while "\n\n" in self._buffer:
            block, self._buffer = self._buffer.split("\n\n", 1)
            self._raw.append((block, now))

    @property
    def records(self) -> list[SseRecord]:
        while self._raw:
            self._message(*self._raw.pop(0))
        return self._records

    def _message(self, block: str, received: float) -> None:
        ident: int | None = None
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith(":"):
                self.comments += 1
            elif line.startswith("id:"):
                ident = int(line[3:].strip())
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            self._records.append(SseRecord(ident, json.loads("\n".join(data)), received))

    @property
    def ids(self) -> list[int | None]:
        return [r.id for r in self.records]

    @property
    def types(self) -> list[str]:
        return [r.data.get("type", "") for r in self.records]


async def read_sse(
    url: str,
    headers: dict[str, str] | None = None,
    *,
    timeout: float = 120.0,
    stream: SseStream | None = None,
) -> SseStream:
    """GET `url` and parse its event stream until the server ends it."""
    stream = stream or SseStream()

    def on_header(line: str) -> None:
        if line.startswith("HTTP/"):
            stream.status = int(line.split()[1])
        elif line.lower().startswith("content-type:"):
            stream.content_type = line.split(":", 1)[1].strip()

    request = HTTPRequest(
        url,
        headers=headers or {},
        request_timeout=timeout,
        streaming_callback=stream.feed,
        header_callback=on_header,
    )
    # A client of its own: the shared one queues requests beyond 10, and subscribers must be
    # connected at the same time.
    client = AsyncHTTPClient(force_instance=True)
    try:
        await client.fetch(request, raise_error=False)
    finally:
        client.close()
    return stream


class JobFiles:
    """Writes one job's files exactly as the contract says."""

    def __init__(self, state: Path, job_id: str, max_steps: int = 5) -> None:
        self.dir = state / "training" / job_id
        self.dir.mkdir(parents=True)
        self.seq = 0
        now = time.time()
        self.job = {
            "id": job_id, "name": f"job {job_id}", "status": "queued", "backend": "local",
            "spec": {"max_steps": max_steps}, "created": now, "updated": now, "step": 0,
            "max_steps": max_steps, "loss": None, "eval_loss": None, "adapter": None,
            "brain": None, "error": None,
        }  # fmt: skip
        self.write_job()

    def write_job(self, **changes) -> None:
        self.job.update(changes, updated=time.time())
        atomic_write_bytes(self.dir / "job.json", json.dumps(self.job).encode())

    def event(self, type: str, **data) -> None:
        append_jsonl(
            self.dir / "events.jsonl", {"seq": self.seq, "ts": time.time(), "type": type, **data}
        )
        self.seq += 1

    def log(self, step: int, loss: float) -> None:
        self.event("log", step=step, max_steps=self.job["max_steps"], loss=loss,
                   learning_rate=1e-4, grad_norm=1.0, epoch=step / 10)  # fmt: skip
        self.write_job(step=step, loss=loss)

    def finish(self, status: str = "completed") -> None:
        self.event("status", status=status)
        self.write_job(status=status)
