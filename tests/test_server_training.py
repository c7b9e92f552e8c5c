"""Training routes: list, detail and the event stream read the job files of the training job
contract (`state/training/<id>/job.json`, `events.jsonl`), written here as the training
package writes them; start and cancel answer 501 when the training package is missing."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

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
    code, error = await error_of(jp_fetch, "training", "nope", "cancel", method="POST", body=b"")
    assert code == 404
