"""One job's files: ``job.json`` (its current state) and ``events.jsonl`` (what happened).

Both live in ``state/training/<id>/`` (0700; files 0600: they name local paths and data).
Several processes write them: the runner (local subprocess or RunPod poller) and whoever
cancels. Every change happens under the job's file lock, where the next ``seq`` is taken from
the log and ``job.json`` is replaced atomically, so readers never lock and never see a mix.
A terminal status (completed, failed, cancelled) is final: a late record cannot revive a job.

``loss`` in job.json is the training loss of the last ``log`` record (the number the loss
curve ends at); the trainer's mean over the whole run, which the ``result`` record carries as
``train_loss``, is kept under that name, so no view shows two different numbers as "loss".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

from agentforge_jupyter.state import Document, append_jsonl, read_jsonl
from agentforge_jupyter.training.errors import CorruptJobError, TrainingError, UnknownJobError

__all__ = [
    "EVENTS_FILE",
    "JOB_FILE",
    "STATUSES",
    "TERMINAL",
    "EventCursor",
    "JobLog",
    "apply_event",
]

JOB_FILE = "job.json"
EVENTS_FILE = "events.jsonl"
STATUSES = ("queued", "running", "completed", "failed", "cancelled")
TERMINAL = ("completed", "failed", "cancelled")
EVENT_TYPES = ("log", "status", "result", "error")
# job.json fields a log record updates.
_PROGRESS_KEYS = ("step", "max_steps", "loss", "eval_loss")


class JobLog:
    """Reads and writes one job directory."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.job_path = self.directory / JOB_FILE
        self.events_path = self.directory / EVENTS_FILE
        # Only for its lock: thread + flock on .job.json.lock, shared with other processes.
        self._lock_doc = Document(self.job_path, "job")
        self._next_seq: int | None = None
        self._offset = 0
        self._mutex = threading.Lock()

    # -- reading

    def read(self) -> dict[str, Any]:
        try:
            job = json.loads(self.job_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise UnknownJobError(
                f"No training job in {self.directory}; `agentforge train list` shows the jobs."
            ) from exc
        except ValueError as exc:
            raise CorruptJobError(
                f"{self.job_path} is not valid JSON ({exc}); restore it or delete the job's "
                "directory."
            ) from exc
        if not isinstance(job, dict):
            raise CorruptJobError(
                f"{self.job_path} is not a JSON object; restore it or delete the job's directory."
            )
        return job

    def events(self, after_seq: int = -1) -> list[dict[str, Any]]:
        return _after(read_jsonl(self.events_path).records, after_seq)

    def tail(self, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Records from byte ``offset`` on, and the offset to continue from."""
        found = read_jsonl(self.events_path, offset)
        return found.records, found.next_offset

    # -- writing

    def create(self, job: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        # Created 0600 before anything is appended: the records name paths and data.
        os.close(os.open(self.events_path, os.O_WRONLY | os.O_CREAT, 0o600))
        with self._lock_doc.locked():
            self._write_job(job)
            self._append_locked("status", {"status": job["status"]})

    def update(self, **fields: Any) -> dict[str, Any]:
        """Change fields of job.json (unless the job already ended); returns the job."""
        with self._lock_doc.locked():
            job = self.read()
            if job.get("status") in TERMINAL and "status" in fields:
                return job
            job.update(fields)
            job["updated"] = time.time()
            self._write_job(job)
            return job

    def record(self, kind: str, **payload: Any) -> dict[str, Any] | None:
        """Append one event and apply it to job.json. Returns the event, or None when the job
        already ended (the record is dropped: a cancelled job stays cancelled)."""
        if kind not in EVENT_TYPES:
            raise TrainingError(f"Unknown job event type {kind!r}; use one of {EVENT_TYPES}.")
        with self._lock_doc.locked():
            job = self.read()
            if job.get("status") in TERMINAL:
                return None
            event = self._append_locked(kind, payload)
            apply_event(job, event)
            job["updated"] = event["ts"]
            self._write_job(job)
            return event

    def _append_locked(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._mutex:
            seq = self._seq_locked()
            event = {**payload, "seq": seq, "ts": time.time(), "type": kind}
            append_jsonl(self.events_path, event)
            self._next_seq = seq + 1
            return event

    def _seq_locked(self) -> int:
        # Another process may have appended since we last looked: read on from our offset.
        if self._next_seq is None:
            self._next_seq = 0
        records, self._offset = self.tail(self._offset)
        for record in records:
            seq = _seq_of(record)
            if seq is not None:
                self._next_seq = max(self._next_seq, seq + 1)
        return self._next_seq

    def _write_job(self, job: dict[str, Any]) -> None:
        text = json.dumps(job, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
        tmp = self.directory / f".{JOB_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.job_path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def follow(self, after_seq: int = -1, poll: float = 0.05) -> Iterator[dict[str, Any]]:
        """Events after ``after_seq`` as they are written, until the job has ended and every
        event is read (a job that ended before this call replays and stops)."""
        return EventCursor(self, after_seq).follow(poll)


class EventCursor:
    """A reader's place in one job's event log: the byte offset it reached and the last
    ``seq`` it returned. ``status`` reads the job (default: job.json as it is; ``TrainingJobs``
    passes its ``get``, which also notices a runner that died)."""

    def __init__(
        self,
        log: JobLog,
        after_seq: int = -1,
        status: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.log = log
        self.after_seq = after_seq
        self.offset = 0
        self._status = status or log.read

    def poll(self) -> tuple[list[dict[str, Any]], bool]:
        """The events appended since the last poll, and whether the job has ended (then no
        more will come)."""
        # The status first: once job.json says the job ended, its last event is in the log.
        ended = self._status().get("status") in TERMINAL
        records, self.offset = self.log.tail(self.offset)
        fresh = _after(records, self.after_seq)
        if fresh:
            self.after_seq = fresh[-1]["seq"]
        return fresh, ended

    def follow(self, poll: float = 0.05) -> Iterator[dict[str, Any]]:
        """Every event from here on as it is written, until the job has ended."""
        while True:
            fresh, ended = self.poll()
            yield from fresh
            if ended:
                return
            time.sleep(poll)

    async def follow_async(self, poll: float = 0.1) -> AsyncIterator[dict[str, Any]]:
        """``follow`` for an event loop: each look runs in a worker thread (recording a dead
        runner takes the job's file lock), and the wait between looks is asyncio's."""
        while True:
            fresh, ended = await asyncio.to_thread(self.poll)
            for event in fresh:
                yield event
            if ended:
                return
            await asyncio.sleep(poll)


def _after(records: list[Any], after_seq: int) -> list[dict[str, Any]]:
    """The records with an int ``seq`` above ``after_seq``, in order (anything else in the log,
    e.g. a line another program wrote there, is not an event)."""
    found = []
    for record in records:
        seq = _seq_of(record)
        if seq is not None and seq > after_seq:
            found.append(record)
            after_seq = seq
    return found


def _seq_of(record: Any) -> int | None:
    """A log record's ``seq``; None for anything that is not an event (not an object, or no
    integer ``seq``: a line another program wrote there)."""
    seq = record.get("seq") if isinstance(record, dict) else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def apply_event(job: dict[str, Any], event: dict[str, Any]) -> None:
    """Update a job document (job.json as a dict) with one event."""
    kind = event["type"]
    if kind == "log":
        for key in _PROGRESS_KEYS:
            if event.get(key) is not None:
                job[key] = event[key]
        if job.get("status") == "queued":
            job["status"] = "running"
    elif kind == "status":
        status = event.get("status")
        if status in STATUSES:
            job["status"] = status
    elif kind == "result":
        job["status"] = "completed"
        job["adapter"] = event.get("adapter")
        job["brain"] = event.get("brain") or job.get("brain")
        job["step"] = event.get("steps", job.get("step"))
        job["max_steps"] = event.get("max_steps", job.get("max_steps"))
        if event.get("train_loss") is not None:
            job["train_loss"] = event["train_loss"]  # the mean; `loss` stays the last step's
        if event.get("eval_loss") is not None:
            job["eval_loss"] = event["eval_loss"]
        job["result"] = {k: v for k, v in event.items() if k not in ("seq", "ts", "type")}
    elif kind == "error":
        job["status"] = "failed"
        job["error"] = event.get("error") or "the job failed"
