"""The runner of one job: ``python -m agentforge_jupyter.training.local_runner JOB_DIR``.

Started detached by ``TrainingJobs.start``. It feeds the job's records into its event log:
from ``worker.handler`` in this process (backend ``local``) or from a RunPod Serverless job
(backend ``runpod``). On completion the adapter is registered as a brain before the result is
recorded, so whoever sees ``completed`` can use the brain at once. SIGTERM (a cancel) closes
the record stream, which stops training at the next step.
"""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentforge_jupyter.training.joblog import JobLog

__all__ = ["main", "run_job"]


class _Cancelled(BaseException):
    """Raised in the main thread by SIGTERM."""


def _on_term(signum: int, frame: Any) -> None:
    raise _Cancelled()


def _records(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if job.get("backend") == "runpod":
        from agentforge_jupyter.training.runpod_backend import remote_records

        return remote_records(job)
    from agentforge_jupyter.training.worker import handler

    return handler({"id": job["id"], "input": job["spec"]})


def run_job(log: JobLog) -> str:
    """Drive the job to its end; returns the final status."""
    job = log.read()
    log.record("status", status="running", message=f"runner started ({job.get('backend')})")
    records = _records(job)
    try:
        for record in records:
            if _handle(log, job, record):
                break
    except _Cancelled:
        log.record("status", status="cancelled", message="the runner was stopped")
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()
    final = log.read()
    if final.get("status") not in ("completed", "failed", "cancelled"):
        log.record("error", error="the worker ended without a result record")
    return str(log.read().get("status"))


def _handle(log: JobLog, job: dict[str, Any], record: dict[str, Any]) -> bool:
    """Record one worker record; True when it ended the job."""
    if not isinstance(record, dict):
        log.record("error", error=f"the worker yielded {type(record).__name__}, not a record")
        return True
    if "error" in record and record.get("type") in (None, "error"):
        log.record("error", error=str(record["error"]))
        return True
    kind = record.get("type")
    payload = {k: v for k, v in record.items() if k not in ("type", "seq", "ts")}
    if kind == "cancelled":
        log.record("status", status="cancelled", message=payload.get("message", "cancelled"))
        return True
    if kind == "result":
        payload["brain"] = _register(job, payload, log)
        log.record("result", **payload)
        return True
    if kind in ("log", "status"):
        if kind == "status" and payload.get("status") not in ("queued", "running"):
            payload["status"] = "running"  # only the runner decides how a job ends
        log.record(kind, **payload)
    elif "remote_id" in record:
        log.update(remote_id=record["remote_id"])
    return False


def _register(job: dict[str, Any], result: dict[str, Any], log: JobLog) -> str | None:
    from agentforge_jupyter.training.adapters import register_adapter_brain

    try:
        return register_adapter_brain(job, result)
    except Exception as exc:  # the adapter is still there; say why it is not a brain
        log.update(brain_error=f"{type(exc).__name__}: {exc}")
        return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m agentforge_jupyter.training.local_runner JOB_DIR", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_term)
    log = JobLog(Path(args[0]))
    try:
        status = run_job(log)
    except _Cancelled:
        log.record("status", status="cancelled", message="the runner was stopped")
        return 1
    except Exception as exc:
        traceback.print_exc()
        log.record("error", error=f"{type(exc).__name__}: {exc}")
        return 1
    return 0 if status == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
