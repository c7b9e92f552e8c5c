"""One job's files: ``job.json`` (its current state) and ``events.jsonl`` (what happened).

Both live in ``state/training/<id>/`` (0700; files 0600: they name local paths and data).
Several processes write them: the runner (local subprocess or RunPod poller) and whoever
cancels. Every change happens under the job's file lock, where the next ``seq`` is taken from
the log and ``job.json`` is replaced atomically, so readers never lock and never see a mix.
A terminal status (completed, failed, cancelled) is final: a late record cannot revive a job.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentforge_jupyter.state import Document, append_jsonl, read_jsonl
from agentforge_jupyter.training.errors import TrainingError, UnknownJobError

__all__ = ["EVENTS_FILE", "JOB_FILE", "STATUSES", "TERMINAL", "JobLog", "apply_event"]

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
            return json.loads(self.job_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise UnknownJobError(
                f"No training job in {self.directory}; `agentforge train list` shows the jobs."
            ) from exc
        except ValueError as exc:
            raise TrainingError(f"{self.job_path} is not valid JSON ({exc}).") from exc

    def events(self, after_seq: int = -1) -> list[dict[str, Any]]:
        return [e for e in read_jsonl(self.events_path).records if e.get("seq", -1) > after_seq]

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
            self._next_seq = max(self._next_seq, int(record.get("seq", -1)) + 1)
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
        offset = 0
        while True:
            ended = self.read().get("status") in TERMINAL
            records, offset = self.tail(offset)
            for record in records:
                if record.get("seq", -1) > after_seq:
                    after_seq = record["seq"]
                    yield record
            if ended:
                return
            time.sleep(poll)


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
            job["loss"] = event["train_loss"]
        if event.get("eval_loss") is not None:
            job["eval_loss"] = event["eval_loss"]
        job["result"] = {k: v for k, v in event.items() if k not in ("seq", "ts", "type")}
    elif kind == "error":
        job["status"] = "failed"
        job["error"] = event.get("error") or "the job failed"
