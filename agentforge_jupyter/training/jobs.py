"""``TrainingJobs``: start, list, follow and cancel training jobs in ``state/training/``.

Both backends run in a detached runner subprocess (training/local_runner.py), so ``start``
returns at once and a job survives the notebook kernel or CLI that started it: ``local`` runs
the worker there, ``runpod`` submits the job to a RunPod Serverless endpoint and streams its
records back. Either way the records land in the same ``events.jsonl``, which any process can
follow and re-attach to.

The runner is a child of the process that started it (a Jupyter server, a kernel) until it
exits. A thread waits for each one, so it is reaped the moment it exits and never lingers as a
zombie, whichever ``TrainingJobs`` of that process asks about the job next (or none does).
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psutil

from agentforge_jupyter.state import StateDir
from agentforge_jupyter.training.data import data_sha256, load_examples
from agentforge_jupyter.training.errors import (
    CorruptJobError,
    JobSpecError,
    TrainingBackendError,
    UnknownJobError,
)
from agentforge_jupyter.training.joblog import JOB_FILE, TERMINAL, EventCursor, JobLog
from agentforge_jupyter.training.spec import BACKENDS, JobSpec

__all__ = ["RUNNER_LOG", "TrainingJobs", "new_job_id"]

logger = logging.getLogger(__name__)

RUNNER_LOG = "runner.log"
CANCEL_GRACE_S = 10.0


def new_job_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(3)}"


class TrainingJobs:
    """The training jobs of one state directory."""

    def __init__(self, state: StateDir | str | os.PathLike[str] | None = None) -> None:
        self.state = state if isinstance(state, StateDir) else StateDir(state)
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def __repr__(self) -> str:
        return f"TrainingJobs({str(self.state.root)!r})"

    def log(self, job_id: str) -> JobLog:
        job_id = str(job_id)
        directory = self.state.training_dir / job_id
        # One plain name: an id never reaches outside the training directory.
        plain = directory.name == job_id and job_id not in (".", "..")
        if not plain or not (directory / JOB_FILE).is_file():
            raise UnknownJobError(
                f"No training job {job_id!r} in {self.state.training_dir}; "
                "`agentforge train list` shows the jobs."
            )
        return JobLog(directory)

    # -- reading

    def list(self) -> list[dict[str, Any]]:
        """Every job, newest first."""
        self._forget_exited()
        jobs = []
        for path in sorted(self.state.training_dir.glob(f"*/{JOB_FILE}"), reverse=True):
            try:
                jobs.append(self.get(path.parent.name))
            except UnknownJobError:
                continue  # deleted meanwhile
            except CorruptJobError as exc:
                logger.warning("training job left out of the list: %s", exc)
        return jobs

    def get(self, job_id: str) -> dict[str, Any]:
        """The job's current state (job.json); a job whose runner died is marked failed."""
        log = self.log(job_id)
        job = log.read()
        if job.get("status") not in TERMINAL and not self._runner_alive(job_id, job):
            log.record(
                "error",
                error=(
                    "the job's runner process exited without a result; see "
                    f"{log.directory / RUNNER_LOG}"
                ),
            )
            job = log.read()
        return job

    def events(self, job_id: str, after_seq: int = -1) -> builtins.list[dict[str, Any]]:
        return self.log(job_id).events(after_seq)

    def cursor(self, job_id: str, after_seq: int = -1) -> EventCursor:
        """A reader of the job's events after ``after_seq``; its status is ``get``'s, so a
        runner that died ends the reading too."""
        return EventCursor(self.log(job_id), after_seq, status=lambda: self.get(job_id))

    def follow(self, job_id: str, after_seq: int = -1, poll: float = 0.05) -> Iterator[dict]:
        """Events as they arrive (from ``after_seq`` on) until the job ends."""
        return self.cursor(job_id, after_seq).follow(poll)

    async def follow_async(
        self, job_id: str, after_seq: int = -1, poll: float = 0.1
    ) -> AsyncIterator[dict[str, Any]]:
        """``follow`` for an event loop (the server's event stream); the file reads run in
        worker threads."""
        cursor = await asyncio.to_thread(self.cursor, job_id, after_seq)
        async for event in cursor.follow_async(poll):
            yield event

    def wait(self, job_id: str, timeout: float | None = None, poll: float = 0.1) -> dict:
        """Block until the job ends; returns its final state."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.get("status") in TERMINAL:
                return job
            if deadline is not None and time.monotonic() > deadline:
                raise TrainingBackendError(
                    f"Training job {job_id} is still {job.get('status')} after {timeout:g} s."
                )
            time.sleep(poll)

    # -- starting and cancelling

    def start(
        self,
        spec: dict[str, Any] | JobSpec,
        *,
        backend: str | None = None,
        endpoint_id: str | None = None,
    ) -> str:
        """Validate the spec and every example, create the job, start its runner; returns the
        job id at once. ``backend``/``endpoint_id`` may also be given as keys of ``spec``."""
        values = dict(spec.to_dict() if isinstance(spec, JobSpec) else spec)
        backend = backend or values.pop("backend", None) or "local"
        endpoint_id = endpoint_id or values.pop("endpoint_id", None) or values.pop("endpoint", None)
        job_spec = JobSpec.from_dict(values)
        if backend not in BACKENDS:
            raise JobSpecError(f"Unknown backend {backend!r}; use one of {', '.join(BACKENDS)}.")
        if backend == "runpod" and not endpoint_id:
            raise JobSpecError("The runpod backend needs an endpoint id (--endpoint ID).")
        if backend == "runpod" and not os.environ.get("RUNPOD_API_KEY", "").strip():
            raise TrainingBackendError(
                "The runpod backend needs an API key in $RUNPOD_API_KEY; export it in the "
                "environment that starts Jupyter or the CLI."
            )
        examples = load_examples(job_spec.data)
        if job_spec.eval_data is not None:
            load_examples(job_spec.eval_data, "eval_data")
        job_id = new_job_id()
        directory = self.state.training_dir / job_id
        if backend == "local" and job_spec.output_dir is None:
            job_spec.output_dir = str(directory / "adapter")
        now = time.time()
        job = {
            "id": job_id,
            "name": job_spec.name,
            "status": "queued",
            "backend": backend,
            "endpoint_id": endpoint_id,
            "spec": job_spec.to_dict(),
            "data_sha256": data_sha256(examples),
            "examples": len(examples),
            "created": now,
            "updated": now,
            "step": 0,
            "max_steps": job_spec.max_steps,
            "loss": None,
            "train_loss": None,
            "eval_loss": None,
            "adapter": None,
            "brain": None,
            "error": None,
        }
        log = JobLog(directory)
        log.create(job)
        self._launch(job_id, log)
        return job_id

    def _launch(self, job_id: str, log: JobLog) -> None:
        command = [sys.executable, "-m", "agentforge_jupyter.training.local_runner"]
        env = {**os.environ, "AGENTFORGE_STATE_DIR": str(self.state.root)}
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        out = os.open(log.directory / RUNNER_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            child = subprocess.Popen(
                [*command, str(log.directory)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=env,
                start_new_session=True,  # outlives a restarted kernel; killed as a group
            )
        except OSError as exc:
            log.record("error", error=f"cannot start the runner: {exc}")
            raise TrainingBackendError(f"Cannot start the training runner: {exc}") from exc
        finally:
            os.close(out)
        self._children[job_id] = child
        # Reaped as it exits, by a thread that only waits: no zombie, whoever asks next.
        threading.Thread(
            target=child.wait, name=f"training-runner-{child.pid}", daemon=True
        ).start()
        log.update(pid=child.pid)

    def cancel(self, job_id: str) -> None:
        """Mark the job cancelled, cancel it on RunPod, and stop its runner."""
        log = self.log(job_id)
        job = log.read()
        if job.get("status") in TERMINAL:
            return
        log.record("status", status="cancelled", message="cancelled by the user")
        pid = job.get("pid")
        if isinstance(pid, int) and self._runner_alive(job_id, job):
            _terminate_group(pid, self._children.get(job_id))
        job = log.read()
        if job.get("backend") == "runpod" and job.get("remote_id"):
            from agentforge_jupyter.training.runpod_backend import cancel_remote

            cancel_remote(job)

    # -- runner processes

    def _runner_alive(self, job_id: str, job: dict[str, Any]) -> bool:
        child = self._children.get(job_id)
        if child is not None:
            return child.poll() is None
        pid = job.get("pid")
        if not isinstance(pid, int):
            # Created, runner not yet recorded: give start() a moment before declaring death.
            return time.time() - float(job.get("created") or 0) < 30
        return _pid_runs(pid, str(self.state.training_dir / job_id))

    def _forget_exited(self) -> None:
        """Drop the runners that exited (already reaped) from the ones this store started."""
        for job_id, child in list(self._children.items()):
            if child.poll() is not None:
                self._children.pop(job_id, None)


def _pid_runs(pid: int, marker: str) -> bool:
    """True when ``pid`` is alive, not a zombie, and its command line names ``marker`` (the
    job's directory: a pid reused by another program is not our runner)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return marker in " ".join(process.cmdline())
    except psutil.NoSuchProcess:  # ZombieProcess too
        return False
    except psutil.AccessDenied:
        return True  # someone else's process: alive, and we cannot tell more


def _terminate_group(pid: int, child: subprocess.Popen[bytes] | None) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + CANCEL_GRACE_S
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            return
        if child is None and not _pid_runs(pid, ""):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    if child is not None:
        child.wait(timeout=5)
