"""The runpod backend: the real `runpod` client against a fake of RunPod's hosted serverless
API on loopback, which runs the real worker handler in a thread."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentforge_jupyter.state import StateDir
from agentforge_jupyter.training import TrainingJobs
from agentforge_jupyter.training.errors import JobSpecError, TrainingBackendError
from agentforge_jupyter.training.runpod_backend import remote_records
from agentforge_jupyter.training.worker import handler
from tests.conftest import require
from tests.fakes import FakeRunPodServer, build_tiny_model

KEY = "rpa_fake_key"
DATA = [{"prompt": f"q{i}", "completion": f"print({i})"} for i in range(8)]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    require(not missing, f"the train extra is missing {missing}: pip install -e '.[train]'")
    texts = ["<|user|>\nq1\n<|assistant|>\nprint(1)\n"] * 8
    return build_tiny_model(tmp_path_factory.mktemp("rp") / "model", texts)


@pytest.fixture
def runpod_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(server: FakeRunPodServer, key: str = KEY) -> None:
        monkeypatch.setenv("RUNPOD_API_KEY", key)
        monkeypatch.setenv("RUNPOD_ENDPOINT_BASE_URL", server.base_url)

    yield use


def job_for(spec: dict[str, Any], endpoint: str = "fake-endpoint") -> dict[str, Any]:
    return {"id": "local-1", "endpoint_id": endpoint, "backend": "runpod", "spec": spec}


def failing_handler(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield {"type": "status", "status": "running", "message": "starting"}
    raise RuntimeError("CUDA out of memory")


def slow_handler(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in range(1, 1000):
        time.sleep(0.2)
        yield {"type": "log", "step": step, "max_steps": 999, "loss": 1.0}


def test_job_streams_records_and_completes(tiny_model: str, tmp_path: Path, runpod_env) -> None:
    with FakeRunPodServer(handler, output_delay=0.3) as server:
        runpod_env(server)
        jobs = TrainingJobs(StateDir(tmp_path / "state"))
        spec = {"base_model": tiny_model, "data": DATA, "max_steps": 4, "batch_size": 2}
        job_id = jobs.start(spec, backend="runpod", endpoint_id="fake-endpoint")
        events = list(jobs.follow(job_id))
        job = jobs.get(job_id)
    assert job["status"] == "completed", job.get("error")
    assert job["remote_id"] in server.jobs
    assert [e["step"] for e in events if e["type"] == "log" and e["loss"] is not None] == [
        1,
        2,
        3,
        4,
    ]
    assert server.nonempty_streams >= 2  # records arrived over several polls, not at the end
    sent = server.jobs[job["remote_id"]]["input"]
    assert sent["data"][0] == {
        "messages": [
            {"role": "user", "content": "q0"},
            {"role": "assistant", "content": "print(0)"},
        ]
    }
    assert Path(job["adapter"], "adapter_model.safetensors").is_file()
    assert job["brain"] == f"lora-{job_id}"


def test_cancel_ends_despite_the_sdk_stream_defect(tmp_path: Path, runpod_env) -> None:
    # Job.stream() never stops on CANCELLED; the backend must notice and end anyway.
    with FakeRunPodServer(slow_handler) as server:
        runpod_env(server)
        records = remote_records(job_for({"base_model": "org/m", "data": DATA}))
        remote_id = next(records)["remote_id"]
        first = next(records)
        assert first["type"] == "log"
        server.cancel(remote_id)
        started = time.monotonic()
        rest = list(records)
    assert rest[-1]["type"] == "cancelled"
    assert time.monotonic() - started < 10


def test_stream_resumes_after_rate_limits(runpod_env) -> None:
    # More 429s than the SDK's own retries absorb: the backend resumes the stream.
    with FakeRunPodServer(slow_handler) as server:
        runpod_env(server)
        records = remote_records(job_for({"base_model": "org/m", "data": DATA}))
        remote_id = next(records)["remote_id"]
        assert next(records)["step"] == 1
        server.rate_limit(14)  # more than two requests of SDK retries (6 answers each)
        while server._rate_limited:  # records fetched before the limits, then a wait
            assert next(records)["type"] == "log"
        later = [next(records) for _ in range(3)]  # fetched after all 14 answers were 429
        server.cancel(remote_id)
        rest = list(records)
    assert all(r["type"] == "log" for r in later)
    assert [r["step"] for r in later] == sorted(r["step"] for r in later)
    assert rest[-1]["type"] == "cancelled"


def test_cancel_through_the_store(tmp_path: Path, runpod_env, tiny_model: str) -> None:
    with FakeRunPodServer(slow_handler) as server:
        runpod_env(server)
        jobs = TrainingJobs(StateDir(tmp_path / "state"))
        job_id = jobs.start(
            {"base_model": tiny_model, "data": DATA}, backend="runpod", endpoint_id="fake-endpoint"
        )
        for event in jobs.follow(job_id):
            if event["type"] == "log":
                break
        jobs.cancel(job_id)
        job = jobs.get(job_id)
        assert job["status"] == "cancelled"
        assert server.jobs[job["remote_id"]]["status"] == "CANCELLED"
        assert ("POST", f"/v2/fake-endpoint/cancel/{job['remote_id']}") in server.requests


def test_handler_that_raises_fails_the_job(runpod_env) -> None:
    with FakeRunPodServer(failing_handler) as server:
        runpod_env(server)
        records = list(remote_records(job_for({"base_model": "org/m", "data": DATA})))
    assert records[-1] == {
        "type": "error",
        "error": "the RunPod worker failed: RuntimeError: CUDA out of memory",
    }


def test_error_record_fails_the_job_like_runpod(runpod_env, monkeypatch) -> None:
    # The real handler cannot load the model and yields {"error"}: RunPod fails the job.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never download: the model is simply missing
    with FakeRunPodServer(handler) as server:
        runpod_env(server)
        records = list(
            remote_records(job_for({"base_model": "agentforge-test/none", "data": DATA}))
        )
    remote_id = records[0]["remote_id"]
    assert server.jobs[remote_id]["status"] == "FAILED"
    assert records[-1]["type"] == "error"
    assert records[-1]["error"].startswith("the RunPod worker failed: ")
    assert "agentforge-test/none" in records[-1]["error"]


def test_timed_out(runpod_env) -> None:
    with FakeRunPodServer(slow_handler, time_out_after=2) as server:
        runpod_env(server)
        records = list(remote_records(job_for({"base_model": "org/m", "data": DATA})))
    assert records[-1]["type"] == "error" and "timed out" in records[-1]["error"]


def test_wrong_key_is_401(runpod_env) -> None:
    with FakeRunPodServer(slow_handler) as server:
        runpod_env(server, key="rpa_wrong")
        records = list(remote_records(job_for({"base_model": "org/m", "data": DATA})))
    assert len(records) == 1 and "401 Unauthorized" in records[0]["error"]
    assert "RUNPOD_API_KEY" in records[0]["error"]


def test_rate_limit_is_retried_then_reported(runpod_env) -> None:
    with FakeRunPodServer(failing_handler) as server:
        runpod_env(server)
        server.rate_limit(1)  # one 429: the SDK's retry gets through
        records = list(remote_records(job_for({"base_model": "org/m", "data": DATA})))
        assert "remote_id" in records[0]
        server.rate_limit(100)  # always 429: reported once the retries are spent
        records = list(remote_records(job_for({"base_model": "org/m", "data": DATA})))
    assert len(records) == 1 and "rate limiting" in records[0]["error"]


def test_runpod_needs_a_key_and_an_endpoint(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("RUNPOD_API_KEY", raising=False)
    data = tmp_path / "d.jsonl"
    data.write_text('{"prompt": "p", "completion": "c"}\n')
    jobs = TrainingJobs(StateDir(tmp_path / "state"))
    with pytest.raises(JobSpecError, match="endpoint id"):
        jobs.start({"base_model": "org/m", "data": str(data)}, backend="runpod")
    with pytest.raises(TrainingBackendError, match="RUNPOD_API_KEY"):
        jobs.start({"base_model": "org/m", "data": str(data)}, backend="runpod", endpoint_id="e")
    assert jobs.list() == []
    records = list(remote_records(job_for({"base_model": "org/m", "data": str(data)})))
    assert "needs an API key in $RUNPOD_API_KEY" in records[0]["error"]


def test_health_route_shape(runpod_env) -> None:
    import runpod

    with FakeRunPodServer(failing_handler) as server:
        runpod_env(server)
        from agentforge_jupyter.training.runpod_backend import sdk

        sdk()
        health = runpod.Endpoint("fake-endpoint").health()
    assert set(health["jobs"]) == {"completed", "failed", "inProgress", "inQueue", "retried"}
    assert set(health["workers"]) == {"idle", "running"}
