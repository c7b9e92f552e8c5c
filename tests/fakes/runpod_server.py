"""RunPod's hosted serverless API on loopback, running a real worker handler per job."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from .loopback import LoopbackServer, QuietHandler


class _RunPodHandler(QuietHandler):
    fake: FakeRunPodServer

    def do_GET(self) -> None:
        self._route("GET", None)

    def do_POST(self) -> None:
        self._route("POST", self.read_json()[1])

    def _route(self, method: str, body: Any) -> None:
        fake = self.fake
        fake.requests.append((method, self.path))
        if self.headers.get("authorization") != f"Bearer {fake.api_key}":
            self._json(401, {"error": "Unauthorized"})
            return
        if fake._take_rate_limit():
            self._json(429, {"error": "rate limited"}, {"Retry-After": "1"})
            return
        parts = self.path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != "v2" or parts[1] != fake.endpoint_id:
            self._json(404, {"error": f"no route {self.path}"})
            return
        answer = self._answer(method, parts[2:], body)
        if answer is None:
            self._json(404, {"error": f"no job or route {self.path}"})
        else:
            self._json(200, answer)

    def _answer(self, method: str, rest: list[str], body: Any) -> dict[str, Any] | None:
        fake = self.fake
        if method == "POST" and rest == ["run"]:
            if not isinstance(body, dict) or "input" not in body:
                return {"error": "the request needs an input"}
            return fake.submit(body)
        if method == "GET" and rest == ["health"]:
            return fake.health()
        if len(rest) != 2:
            return None
        route, job_id = rest
        if method == "GET" and route == "status":
            return fake.status_of(job_id)
        if method == "GET" and route == "stream":
            return fake.stream_of(job_id)
        if method == "POST" and route == "cancel":
            return fake.cancel(job_id)
        return None


class FakeRunPodServer(LoopbackServer):
    """RunPod's hosted serverless API (``/v2/{endpoint}/run``, ``status/{id}``,
    ``stream/{id}``, ``cancel/{id}``, ``health``) on loopback, with the hosted response
    shapes, running a real generator ``handler`` in a thread per job.

    Injected failures: ``api_key`` mismatch answers 401; ``rate_limit(n)`` answers the next n
    requests with 429; ``time_out_after`` (outputs) marks a job TIMED_OUT; a handler that
    raises marks it FAILED with the error text, as the RunPod worker does.

    ``base_url`` is what RUNPOD_ENDPOINT_BASE_URL is set to (the SDK appends /{endpoint}/...).
    """

    handler_class = _RunPodHandler
    url_path = "/v2"

    def __init__(
        self,
        handler: Callable[[dict[str, Any]], Any],
        *,
        endpoint_id: str = "fake-endpoint",
        api_key: str = "rpa_fake_key",
        time_out_after: int | None = None,
        output_delay: float = 0.0,
    ) -> None:
        self.handler = handler
        self.endpoint_id = endpoint_id
        self.api_key = api_key
        self.time_out_after = time_out_after
        self.output_delay = output_delay
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.nonempty_streams = 0
        self._rate_limited = 0
        self._lock = threading.Lock()
        self._counter = 0

    def stop(self) -> None:
        with self._lock:
            for job in self.jobs.values():
                job["cancel"].set()  # handlers end their jobs before the server goes
        super().stop()

    def rate_limit(self, count: int) -> FakeRunPodServer:
        with self._lock:
            self._rate_limited = count
        return self

    def _take_rate_limit(self) -> bool:
        with self._lock:
            if self._rate_limited > 0:
                self._rate_limited -= 1
                return True
            return False

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:

        with self._lock:
            self._counter += 1
            job_id = f"fake-{self._counter}-{uuid.uuid4().hex[:8]}"
            job: dict[str, Any] = {
                "id": job_id,
                "status": "IN_QUEUE",
                "input": body.get("input"),
                "pending": [],
                "outputs": [],
                "error": None,
                "cancel": threading.Event(),
                "submitted": time.time(),
            }
            self.jobs[job_id] = job
        threading.Thread(target=self._work, args=(job,), daemon=True).start()
        return {"id": job_id, "status": "IN_QUEUE"}

    def _work(self, job: dict[str, Any]) -> None:
        with self._lock:
            if job["status"] == "CANCELLED":
                return
            job["status"] = "IN_PROGRESS"
        gen = self.handler({"id": job["id"], "input": job["input"]})
        final = "COMPLETED"
        try:
            for output in gen:
                if job["cancel"].is_set():
                    return
                if isinstance(output, dict) and output.get("error"):
                    # As the RunPod worker does: an error output fails the job, unstreamed.
                    final = "FAILED"
                    job["error"] = str(output["error"])
                    return
                if self.output_delay:
                    time.sleep(self.output_delay)
                with self._lock:
                    job["pending"].append({"output": output})
                    job["outputs"].append(output)
                    count = len(job["outputs"])
                if self.time_out_after is not None and count >= self.time_out_after:
                    final = "TIMED_OUT"
                    return
        except Exception as exc:  # the RunPod worker reports a raising handler as FAILED
            final = "FAILED"
            job["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):
                gen.close()
            with self._lock:
                if job["status"] != "CANCELLED":
                    job["status"] = final

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None:
                return None
            if job["status"] in ("IN_QUEUE", "IN_PROGRESS"):
                job["status"] = "CANCELLED"
            job["cancel"].set()
            return {"id": job_id, "status": job["status"]}

    def status_of(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None:
                return None
            answer = {
                "id": job_id,
                "status": job["status"],
                "delayTime": 1,
                "executionTime": int((time.time() - job["submitted"]) * 1000),
                "workerId": "fake-worker",
            }
            if job["status"] == "COMPLETED":
                answer["output"] = list(job["outputs"])
            if job["error"]:
                answer["error"] = job["error"]
            return answer

    def stream_of(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None:
                return None
            chunks, job["pending"] = job["pending"], []
            if chunks:
                self.nonempty_streams += 1
            return {"status": job["status"], "stream": chunks}

    def health(self) -> dict[str, Any]:
        with self._lock:
            states = [j["status"] for j in self.jobs.values()]
        return {
            "jobs": {
                "completed": states.count("COMPLETED"),
                "failed": states.count("FAILED"),
                "inProgress": states.count("IN_PROGRESS"),
                "inQueue": states.count("IN_QUEUE"),
                "retried": 0,
            },
            "workers": {"idle": 1, "running": states.count("IN_PROGRESS")},
        }
