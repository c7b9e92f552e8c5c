"""Training routes, served by the server's one `TrainingJobs`: list, detail and the event
stream of job files written here exactly as the training job contract says
(`state/training/<id>/job.json`, `events.jsonl`); the errors (400, 404, 500 naming a corrupt
job.json, 501 without the training package); and a real local job started through the server,
whose runner is reaped once it exits (no zombie child of the server)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from pathlib import Path

import psutil

from .conftest import require
from .fakes import build_tiny_model
from .server_client import JobFiles, read_sse
from .server_fixtures import *  # noqa: F403  (run, state, api_url, jp_fetch, ...)
from .server_fixtures import api, error_of


def test_list_and_detail(jp_fetch, state, run) -> None:
    run(_list_and_detail(jp_fetch, state))


async def _list_and_detail(jp_fetch, state: Path) -> None:
    assert await api(jp_fetch, "training") == []
    old, new = JobFiles(state, "job-a"), JobFiles(state, "job-b")
    new.write_job(created=old.job["created"] + 10)
    old.log(1, 2.5)
    listed = await api(jp_fetch, "training")
    assert [j["id"] for j in listed] == ["job-b", "job-a"]  # newest first
    detail = await api(jp_fetch, "training", "job-a")
    assert detail["step"] == 1 and detail["loss"] == 2.5 and detail["status"] == "queued"
    code, error = await error_of(jp_fetch, "training", "nope")
    assert code == 404 and "nope" in error["error"]


def test_events_stream_live_and_resume(jp_fetch, jp_auth_header, api_url, state, run) -> None:
    run(_events_stream_live_and_resume(jp_fetch, jp_auth_header, api_url, state))


async def _events_stream_live_and_resume(jp_fetch, jp_auth_header, api_url, state) -> None:
    job = JobFiles(state, "live")
    job.write_job(status="running")
    job.event("status", status="running")
    follower = asyncio.ensure_future(
        read_sse(api_url("training", "live", "events"), jp_auth_header)
    )
    for step, loss in enumerate([2.0, 1.5, 1.2, 1.0], start=1):
        await asyncio.sleep(0.15)
        job.log(step, loss)
    await asyncio.sleep(0.3)
    assert not follower.done()  # still running: the stream stays open
    job.event("result", adapter="/tmp/adapter")
    job.finish()
    stream = await asyncio.wait_for(follower, 30)
    assert stream.ids == list(range(7))
    assert [r.data["loss"] for r in stream.records if r.data["type"] == "log"] == [
        2.0,
        1.5,
        1.2,
        1.0,
    ]
    assert stream.records[-1].data == {**stream.records[-1].data, "status": "completed"}

    rest = await read_sse(
        api_url("training", "live", "events"), {**jp_auth_header, "Last-Event-ID": "3"}
    )
    assert rest.ids == [4, 5, 6]
    code, _ = await error_of(jp_fetch, "training", "nope", "events")
    assert code == 404


def test_start_and_cancel_without_the_training_package(jp_fetch, state, monkeypatch, run) -> None:
    monkeypatch.setitem(sys.modules, "agentforge_jupyter.training", None)  # import fails
    run(_start_and_cancel_without_training(jp_fetch, state))


async def _start_and_cancel_without_training(jp_fetch, state: Path) -> None:
    code, error = await error_of(jp_fetch, "training", method="POST", body=json.dumps({}))
    assert code == 501 and "training" in error["error"]
    JobFiles(state, "job-c")
    code, error = await error_of(jp_fetch, "training", "job-c", "cancel", method="POST", body=b"")
    assert code == 501
    # Without the package nothing can answer about jobs, not even which ones exist...
    for parts in (("training",), ("training", "job-c"), ("training", "job-c", "events")):
        code, error = await error_of(jp_fetch, *parts)
        assert code == 501 and "install the training extra" in error["error"], parts
    code, error = await error_of(jp_fetch, "training", "nope", "cancel", method="POST", body=b"")
    assert code == 501
    # ...but a malformed id is still the request's fault.
    code, error = await error_of(jp_fetch, "training", "a..b", "cancel", method="POST", body=b"")
    assert code == 400 and "not a valid training job id" in error["error"]


def test_bad_ids_and_a_corrupt_job_file(jp_fetch, state, run) -> None:
    run(_bad_ids_and_corrupt_job(jp_fetch, state))


async def _bad_ids_and_corrupt_job(jp_fetch, state: Path) -> None:
    for parts in (("a..b",), ("a..b", "events")):
        code, error = await error_of(jp_fetch, "training", *parts)
        assert code == 400 and "not a valid training job id" in error["error"]
    good, bad = JobFiles(state, "job-ok"), JobFiles(state, "job-bad")
    (bad.dir / "job.json").write_text('{"id": "job-bad", "status": ', encoding="utf-8")
    for parts, method in (((), "GET"), (("events",), "GET"), (("cancel",), "POST")):
        body = b"" if method == "POST" else None
        code, error = await error_of(jp_fetch, "training", "job-bad", *parts, method=method,
                                     body=body)  # fmt: skip
        assert code == 500, parts
        assert str(bad.dir / "job.json") in error["error"] and "not valid JSON" in error["error"]
    # The list still shows the jobs that can be read; the broken file is left as it was.
    assert [j["id"] for j in await api(jp_fetch, "training")] == [good.job["id"]]
    assert (bad.dir / "job.json").read_text() == '{"id": "job-bad", "status": '


TINY_TEXTS = ["Question 1: total revenue?\nprint(df['revenue'].sum())\n"] * 10
TINY_STEPS = 3


def test_a_local_job_leaves_no_zombie_and_one_loss(
    jp_fetch, jp_auth_header, api_url, state, tmp_path, run
) -> None:
    missing = [m for m in ("torch", "transformers", "peft") if importlib.util.find_spec(m) is None]
    require(not missing, f"the train extra is missing {missing}: pip install -e '.[train]'")
    model = build_tiny_model(tmp_path / "model", TINY_TEXTS)
    data = tmp_path / "train.jsonl"
    rows = [{"prompt": f"Question {i}: total?", "completion": f"print({i})"} for i in range(6)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = {"backend": "local", "base_model": model, "data": str(data), "batch_size": 2,
            "max_seq_len": 64, "max_steps": TINY_STEPS, "lora_r": 4}  # fmt: skip
    run(_local_job(jp_fetch, jp_auth_header, api_url, spec))


async def _local_job(jp_fetch, jp_auth_header, api_url, spec: dict) -> None:
    started = await api(jp_fetch, "training", method="POST", body=json.dumps(spec))
    job_id = started["id"]
    stream = await read_sse(api_url("training", job_id, "events"), jp_auth_header, timeout=600)
    job = await api(jp_fetch, "training", job_id)
    assert job["status"] == "completed", job.get("error")
    runner = job["pid"]
    assert runner != psutil.Process().pid
    # The runner records its result, then exits: wait for that, then look as a panel does.
    assert await _exited(runner), f"the runner {runner} of {job_id} still runs"
    listed = await api(jp_fetch, "training")
    for _ in range(100):  # reaped by the server's watcher at once; a moment for its thread
        if not _is_zombie(runner):
            break
        await asyncio.sleep(0.1)
    assert not _is_zombie(runner), f"the runner {runner} is a zombie child of the server"
    assert runner not in [c.pid for c in psutil.Process().children()]

    # One loss: the list and the detail show the last logged training loss, which the stream
    # showed last; the trainer's mean is `train_loss`, as the result record says.
    logs = [r.data for r in stream.records if r.data["type"] == "log" and r.data.get("loss")]
    result = stream.records[-1].data
    assert [r["step"] for r in logs] == list(range(1, TINY_STEPS + 1))
    assert result["type"] == "result" and result["train_loss"] > 0
    assert job["loss"] == logs[-1]["loss"] and job["train_loss"] == result["train_loss"]
    (row,) = [j for j in listed if j["id"] == job_id]
    assert row["loss"] == job["loss"] and row["train_loss"] == job["train_loss"]


async def _exited(pid: int) -> bool:
    """True once `pid` has exited: gone, or a zombie its parent has not reaped."""
    for _ in range(600):
        if _is_zombie(pid) or not psutil.pid_exists(pid):
            return True
        await asyncio.sleep(0.1)
    return False


def _is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
