"""The ``runpod`` backend: a job on a RunPod Serverless endpoint running ``worker.handler``.

Uses the real ``runpod`` SDK (``Endpoint.run``, ``Job.status``, ``Job.stream``, ``Job.cancel``).
The SDK does not read ``RUNPOD_API_KEY`` itself, so it is set on ``runpod.api_key`` here; the
base URL comes from ``RUNPOD_ENDPOINT_BASE_URL`` as the SDK reads it at import.

Known SDK defect handled here: ``Job.stream()`` never ends once a job is ``CANCELLED`` (its final
states omit it), so the stream is drained in a thread and the job's status is polled beside it.
The training data always travels inline in the request, validated before it is sent.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

from agentforge_jupyter.training.data import load_examples
from agentforge_jupyter.training.errors import TrainingBackendError

__all__ = [
    "RUNPOD_API_KEY_ENV",
    "RUNPOD_BASE_URL_ENV",
    "cancel_remote",
    "remote_input",
    "remote_records",
    "sdk",
]

RUNPOD_API_KEY_ENV = "RUNPOD_API_KEY"
RUNPOD_BASE_URL_ENV = "RUNPOD_ENDPOINT_BASE_URL"
# How long the stream may stay silent before the job's status is checked.
STATUS_EVERY_S = 2.0
SUBMIT_ATTEMPTS = 4
STREAM_RETRIES = 5
_END = object()


def sdk() -> Any:
    """The ``runpod`` module, configured from the environment."""
    import runpod

    key = os.environ.get(RUNPOD_API_KEY_ENV, "").strip()
    if not key:
        raise TrainingBackendError(
            f"The runpod backend needs an API key in ${RUNPOD_API_KEY_ENV}; export it in the "
            "environment that starts Jupyter or the CLI."
        )
    runpod.api_key = key
    runpod.endpoint_url_base = os.environ.get(RUNPOD_BASE_URL_ENV, runpod.endpoint_url_base)
    return runpod


def remote_input(spec: dict[str, Any]) -> dict[str, Any]:
    """The job spec as sent to the worker: examples inline, no local paths."""
    sent = {k: v for k, v in spec.items() if k not in ("output_dir",)}
    sent["data"] = [{"messages": m} for m in load_examples(spec["data"])]
    if spec.get("eval_data"):
        sent["eval_data"] = [{"messages": m} for m in load_examples(spec["eval_data"])]
    return sent


def remote_records(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Submit the job and yield the worker's records, then a final error if RunPod failed it.
    The first record carries ``remote_id``, RunPod's job id."""
    try:
        runpod = sdk()
        endpoint = runpod.Endpoint(job["endpoint_id"])
        remote = _submit(endpoint, {"input": remote_input(job["spec"])})
    except Exception as exc:
        yield {"type": "error", "error": explain(exc, job)}
        return
    yield {"remote_id": remote.job_id}
    yield from _follow(remote, job)


def _submit(endpoint: Any, payload: dict[str, Any]) -> Any:
    """``Endpoint.run``, retried on 429: the SDK retries only GETs (urllib3 skips POST)."""
    import requests

    for attempt in range(SUBMIT_ATTEMPTS):
        try:
            return endpoint.run(payload)
        except requests.exceptions.HTTPError as exc:
            response = exc.response
            if response is None or response.status_code != 429 or attempt + 1 == SUBMIT_ATTEMPTS:
                raise
            try:
                wait = float(response.headers.get("Retry-After") or 1)
            except ValueError:
                wait = 1.0
            time.sleep(min(max(wait, 0.1), 30.0))
    raise AssertionError("unreachable")  # pragma: no cover


def _drain(remote: Any, chunks: queue.SimpleQueue[Any]) -> None:
    """Put every streamed chunk on `chunks`, then an exception if the stream failed, then _END.

    The SDK retries 429 only over plain http (its retry adapter is mounted on http://): a rate
    limit or a dropped connection while training must not fail a job that runs on, so the
    stream is resumed (RunPod hands out each chunk once: nothing is lost)."""
    failures = 0
    try:
        while True:
            try:
                for output in remote.stream():
                    failures = 0
                    chunks.put(output)
                return
            except Exception as exc:
                failures += 1
                if not transient(exc) or failures > STREAM_RETRIES:
                    chunks.put(exc)
                    return
                time.sleep(min(2.0**failures, 30.0))
    finally:
        chunks.put(_END)


def _poll(watcher: Any, job: dict[str, Any]) -> dict[str, Any] | None:
    """A final record when a status poll shows the job is over (Job.stream() never ends after
    CANCELLED), else None."""
    try:
        if watcher.status() == "CANCELLED":
            return {"type": "cancelled", "message": "the RunPod job was cancelled"}
    except Exception as exc:
        if not transient(exc):
            return {"type": "error", "error": explain(exc, job)}
    return None


def _follow(remote: Any, job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from runpod.endpoint.runner import Job

    chunks: queue.SimpleQueue[Any] = queue.SimpleQueue()
    # A second Job object for status polls: the streaming one is busy in its thread.
    watcher = Job(remote.endpoint_id, remote.job_id, remote.rp_client)
    threading.Thread(
        target=_drain, args=(remote, chunks), name=f"runpod-stream-{remote.job_id}", daemon=True
    ).start()
    while True:
        try:
            item = chunks.get(timeout=STATUS_EVERY_S)
        except queue.Empty:
            final = _poll(watcher, job)
            if final is not None:
                yield final
                return
            continue
        if item is _END:
            break
        if isinstance(item, Exception):
            yield {"type": "error", "error": explain(item, job)}
            return
        yield item if isinstance(item, dict) else {"type": "status", "message": str(item)}
    yield from _final(remote, job)


def _final(remote: Any, job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """After the stream: RunPod's verdict, for failures the worker could not report itself."""
    try:
        state = remote.rp_client.get(f"{remote.endpoint_id}/status/{remote.job_id}")
    except Exception as exc:
        yield {"type": "error", "error": explain(exc, job)}
        return
    status = state.get("status")
    if status == "FAILED":
        detail = state.get("error") or "no error text"
        yield {"type": "error", "error": f"the RunPod worker failed: {detail}"}
    elif status == "TIMED_OUT":
        yield {
            "type": "error",
            "error": "the RunPod job timed out (the endpoint's execution timeout); raise it "
            "in the endpoint settings or train for fewer steps",
        }
    elif status == "CANCELLED":
        yield {"type": "cancelled", "message": "the RunPod job was cancelled"}
    else:
        yield {"type": "error", "error": f"the RunPod job ended ({status}) without a result"}


def transient(exc: BaseException) -> bool:
    """A failure worth retrying: rate limits, server errors, dropped connections."""
    import requests

    if isinstance(exc, (requests.exceptions.RetryError, requests.exceptions.ConnectionError)):
        return True
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return False


def explain(exc: BaseException, job: dict[str, Any]) -> str:
    """An SDK or HTTP failure as a message that says what to do."""
    import requests

    where = f"RunPod endpoint {job.get('endpoint_id')}"
    text = str(exc)
    if isinstance(exc, TrainingBackendError):
        return text
    if "401" in text and isinstance(exc, RuntimeError):
        return (
            f"{where} rejected the API key from ${RUNPOD_API_KEY_ENV} (401 Unauthorized); "
            "check the key in the RunPod console."
        )
    if isinstance(exc, requests.exceptions.RetryError) or "429" in text:
        return f"{where} is rate limiting requests (HTTP 429) after retries; wait and retry."
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return f"{where} answered HTTP {exc.response.status_code}: {exc.response.text[:200]}"
    if isinstance(exc, requests.exceptions.RequestException):
        return f"cannot reach {where}: {exc}"
    return f"{where}: {type(exc).__name__}: {exc}"


def cancel_remote(job: dict[str, Any]) -> None:
    """Cancel the job on RunPod (best effort: the local job is cancelled either way)."""
    from runpod.endpoint.runner import Job, RunPodClient

    try:
        sdk()
        Job(job["endpoint_id"], job["remote_id"], RunPodClient()).cancel()
    except Exception as exc:
        raise TrainingBackendError(
            f"Could not cancel RunPod job {job.get('remote_id')}: {explain(exc, job)}. "
            "Cancel it in the RunPod console."
        ) from exc
