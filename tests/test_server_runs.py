"""Runs through the server extension: POST answers at once, the run goes on in the background
on the server's loop, and its events reach SSE subscribers (resume, many at once, slow ones)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import nbformat
import psutil

from agentforge_jupyter._loop import background_loop
from agentforge_jupyter.agent import Agent
from agentforge_jupyter.events import RunRecorder
from agentforge_jupyter.server.feed import RunFeed
from agentforge_jupyter.server.run_manager import SHUTDOWN_REASON
from agentforge_jupyter.server.sse import Broadcast

from .fakes import QueuedBrain, code, plan_json
from .server_client import read_sse
from .server_fixtures import *  # noqa: F403  (run, state, api_url, jp_fetch, ...)
from .server_fixtures import api, error_of

GOAL = "Which region drove Q3 revenue growth?"


async def raw_get(port: int, url: str, headers: dict, version: str = "1.1") -> bytes:
    """GET `url` over a plain socket and return everything the server sends until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    path = "/" + url.split("/", 3)[3]
    lines = [f"GET {path} HTTP/{version}", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(-1), 60)
    finally:
        writer.close()


async def start(jp_fetch, **body) -> str:
    response = await jp_fetch(
        "agentforge", "api", "runs", method="POST", body=json.dumps({"goal": GOAL, **body})
    )
    assert response.code == 202
    return json.loads(response.body)["id"]


def test_run_streams_every_event_then_ends(
    jp_fetch, jp_auth_header, jp_http_port, api_url, state, full_isolation, run
) -> None:
    run(_run_streams_every_event_then_ends(jp_fetch, jp_auth_header, jp_http_port, api_url, state))


async def _run_streams_every_event_then_ends(
    jp_fetch, jp_auth_header, jp_http_port, api_url, state: Path
) -> None:
    run_id = await start(jp_fetch, dataset="sales_q3", brain="offline", steps=3)
    stream = await read_sse(api_url("runs", run_id, "events"), jp_auth_header)
    assert stream.status == 200 and stream.content_type.startswith("text/event-stream")
    assert stream.ids == list(range(len(stream.records)))
    assert stream.types[0] == "run_start" and stream.types[-1] == "run_end"
    assert "plan" in stream.types and "code" in stream.types
    on_disk = [json.loads(line) for line in (state / "runs" / run_id / "events.jsonl").open()]
    assert [r.data for r in stream.records] == on_disk

    summary = await api(jp_fetch, "runs", run_id)
    assert summary["status"] == "ok" and summary["goal"] == GOAL
    listed = await api(jp_fetch, "runs")
    assert listed[0]["id"] == run_id and listed[0]["status"] == "ok"

    response = await jp_fetch("agentforge", "api", "runs", run_id, "export")
    notebook = nbformat.reads(response.body.decode(), as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["agentforge"]["run_id"] == run_id

    # Resume after event k: exactly the rest, no duplicates.
    k = len(stream.records) // 2
    rest = await read_sse(
        api_url("runs", run_id, "events"), {**jp_auth_header, "Last-Event-ID": str(k)}
    )
    assert rest.ids == list(range(k + 1, len(stream.records)))
    again = await read_sse(api_url("runs", run_id, "events") + f"?after={k}", jp_auth_header)
    assert again.ids == rest.ids

    # An HTTP/1.0 client gets the same stream unframed, ended by closing the connection.
    raw = await raw_get(jp_http_port, api_url("runs", run_id, "events"), jp_auth_header, "1.0")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"chunked" not in head.lower()
    assert body.startswith(b": stream open\n\n")
    ids = [int(line[3:]) for line in body.decode().splitlines() if line.startswith("id:")]
    assert ids == stream.ids


def test_twenty_subscribers_each_get_every_event(
    jp_fetch, jp_auth_header, api_url, full_isolation, run
) -> None:
    run(
        _twenty_subscribers_each_get_every_event(
            jp_fetch=jp_fetch,
            jp_auth_header=jp_auth_header,
            api_url=api_url,
            full_isolation=full_isolation,
        )
    )


async def _twenty_subscribers_each_get_every_event(
    jp_fetch, jp_auth_header, api_url, full_isolation
) -> None:
    run_id = await start(jp_fetch, dataset="sales_q3", brain="offline", steps=2)
    streams = await asyncio.gather(
        *(read_sse(api_url("runs", run_id, "events"), jp_auth_header) for _ in range(20))
    )
    expected = streams[0].ids
    assert expected and streams[0].types[-1] == "run_end"
    for stream in streams:
        assert stream.ids == expected
        assert [r.data for r in stream.records] == [r.data for r in streams[0].records]


def test_a_slow_subscriber_does_not_hold_up_the_run(
    jp_fetch, jp_http_port, jp_base_url, jp_auth_header, full_isolation, run
) -> None:
    run(
        _a_slow_subscriber_does_not_hold_up_the_run(
            jp_fetch=jp_fetch,
            jp_http_port=jp_http_port,
            jp_base_url=jp_base_url,
            jp_auth_header=jp_auth_header,
            full_isolation=full_isolation,
        )
    )


async def _a_slow_subscriber_does_not_hold_up_the_run(
    jp_fetch, jp_http_port, jp_base_url, jp_auth_header, full_isolation
) -> None:
    run_id = await start(jp_fetch, dataset="sales_q3", brain="offline", steps=3)
    # A client that sends its request and then reads nothing until the run has ended.
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    path = f"{jp_base_url}agentforge/api/runs/{run_id}/events"
    auth = jp_auth_header["Authorization"]
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Authorization: {auth}\r\n\r\n".encode()
    )
    await writer.drain()
    for _ in range(600):
        summary = await api(jp_fetch, "runs", run_id)
        if not summary["live"]:
            break
        await asyncio.sleep(0.2)
    assert summary["status"] == "ok"  # finished although one subscriber never read
    raw = await asyncio.wait_for(reader.read(-1), 60)  # the server ends the stream after run_end
    writer.close()
    count = len(json.loads((await jp_fetch("agentforge", "api", "runs", run_id)).body)["steps"])
    assert count >= 1
    ids = [int(line[3:]) for line in raw.decode().splitlines() if line.startswith("id:")]
    assert ids == list(range(len(ids))) and b'"type":"run_end"' in raw


def test_cancel_a_running_run(
    jp_fetch, jp_serverapp, jp_auth_header, api_url, full_isolation, run
) -> None:
    run(
        _cancel_a_running_run(
            jp_fetch=jp_fetch,
            jp_serverapp=jp_serverapp,
            jp_auth_header=jp_auth_header,
            api_url=api_url,
            full_isolation=full_isolation,
        )
    )


async def _cancel_a_running_run(
    jp_fetch, jp_serverapp, jp_auth_header, api_url, full_isolation
) -> None:
    services = jp_serverapp.web_app.settings["agentforge"]

    services.runs.agent_factory = _waiting_agent
    run_id = await start(jp_fetch, dataset="sales_q3")
    code, error = await error_of(jp_fetch, "runs", run_id, "export")
    assert code == 409 and "still going" in error["error"]
    response = await jp_fetch(
        "agentforge", "api", "runs", run_id, "cancel", method="POST", body=b""
    )
    assert response.code == 202
    stream = await read_sse(api_url("runs", run_id, "events"), jp_auth_header)
    assert stream.types[-1] == "run_end"
    assert stream.records[-1].data["status"] == "cancelled"
    assert stream.records[-1].data["reason"] == "cancelled from the side panel"
    code, error = await error_of(jp_fetch, "runs", run_id, "cancel", method="POST", body=b"")
    assert code == 409 and "ended" in error["error"]


def test_a_run_written_by_another_process_is_followed(
    jp_fetch, jp_auth_header, api_url, state, run
) -> None:
    run(
        _a_run_written_by_another_process_is_followed(
            jp_fetch=jp_fetch, jp_auth_header=jp_auth_header, api_url=api_url, state=state
        )
    )


async def _a_run_written_by_another_process_is_followed(
    jp_fetch, jp_auth_header, api_url, state: Path
) -> None:
    run_id = "20260101-000000-abcdef"
    recorder = RunRecorder(run_id, state / "runs" / run_id)
    recorder.emit(
        "run_start",
        goal="g",
        dataset=None,
        brain="b",
        brain_kind="k",
        model="m",
        limits={},
        session_id="s",
    )
    follower = asyncio.ensure_future(read_sse(api_url("runs", run_id, "events"), jp_auth_header))
    await asyncio.sleep(0.5)
    assert not follower.done()  # no run_end yet: still following the file
    recorder.emit("insight", index=0, text="<b>not html</b>")
    recorder.emit("run_end", status="ok", reason="", duration_s=0.1)
    stream = await asyncio.wait_for(follower, 30)
    assert stream.ids == [0, 1, 2]
    assert stream.records[1].data["text"] == "<b>not html</b>"
    listed = await api(jp_fetch, "runs")
    assert listed[0]["id"] == run_id


def test_run_request_errors(jp_fetch, api_url, jp_auth_header, run) -> None:
    run(_run_request_errors(jp_fetch=jp_fetch, api_url=api_url, jp_auth_header=jp_auth_header))


async def _run_request_errors(jp_fetch, api_url, jp_auth_header) -> None:
    code, error = await error_of(jp_fetch, "runs", method="POST", body=json.dumps({"goal": " "}))
    assert code == 400 and "goal" in error["error"]
    body = json.dumps({"goal": "x", "dataset": "nope"})
    code, error = await error_of(jp_fetch, "runs", method="POST", body=body)
    assert code == 400 and "nope" in error["error"]
    body = json.dumps({"goal": "x", "brain": "nope"})
    code, error = await error_of(jp_fetch, "runs", method="POST", body=body)
    assert code == 404 and "nope" in error["error"]
    body = json.dumps({"goal": "x", "steps": 0})
    code, error = await error_of(jp_fetch, "runs", method="POST", body=body)
    assert code == 400 and "steps" in error["error"]
    code, error = await error_of(jp_fetch, "runs", "20260101-000000-000000")
    assert code == 404
    code, error = await error_of(
        jp_fetch, "runs", "20260101-000000-000000", "cancel", method="POST", body=b""
    )
    assert code == 404
    stream = await read_sse(api_url("runs", "20260101-000000-000000", "events"), jp_auth_header)
    assert stream.status == 404
    stream = await read_sse(
        api_url("runs", "x", "events"), {**jp_auth_header, "Last-Event-ID": "abc"}
    )
    assert stream.status == 400


def _waiting_agent(**kwargs):
    """An agent whose brain takes ten minutes to answer."""
    kwargs.pop("brain", None)
    return Agent(brain=QueuedBrain(["never used"], latency=600), **kwargs)


def _sleeping_agent(**kwargs):
    """An agent whose one step sleeps in its sandbox kernel for ten minutes."""
    kwargs.pop("brain", None)
    brain = QueuedBrain([plan_json("Sleep"), code("import time\ntime.sleep(600)")])
    return Agent(brain=brain, **kwargs)


def test_server_shutdown_cancels_running_runs(
    jp_fetch, jp_serverapp, jp_auth_header, api_url, state, full_isolation, run
) -> None:
    run(_server_shutdown_cancels_running_runs(
        jp_fetch, jp_serverapp, jp_auth_header, api_url, state
    ))  # fmt: skip


async def _server_shutdown_cancels_running_runs(
    jp_fetch, jp_serverapp, jp_auth_header, api_url, state: Path
) -> None:
    services = jp_serverapp.web_app.settings["agentforge"]
    services.runs.agent_factory = _sleeping_agent
    run_id = await start(jp_fetch, dataset="sales_q3")
    follower = asyncio.ensure_future(read_sse(api_url("runs", run_id, "events"), jp_auth_header))
    events = state / "runs" / run_id / "events.jsonl"
    for _ in range(1200):  # the step's code is executing in the kernel
        if events.is_file() and '"type":"lint"' in events.read_text().replace(" ", ""):
            break
        await asyncio.sleep(0.05)
    kernels = psutil.Process().children(recursive=True)
    assert kernels, "the run's sandbox kernel should be running"

    await jp_serverapp.cleanup_extensions()  # what the server does when it stops

    stream = await asyncio.wait_for(follower, 60)  # the stream ended
    assert "cancelled" in stream.types and stream.types[-1] == "run_end"
    assert stream.records[-1].data["status"] == "cancelled"
    record = json.loads((state / "runs" / run_id / "run.json").read_text())
    assert record["status"] == "cancelled" and record["reason"] == SHUTDOWN_REASON
    _, alive = psutil.wait_procs(kernels, timeout=30)
    assert not alive, f"sandbox processes left behind: {alive}"
    code_, error = await error_of(jp_fetch, "runs", method="POST", body=json.dumps({"goal": GOAL}))
    assert code_ == 409 and "shutting down" in error["error"]


def test_run_snapshot_is_taken_on_the_runs_loop(jp_fetch, jp_serverapp, full_isolation, run):
    run(_run_snapshot_is_taken_on_the_runs_loop(jp_fetch, jp_serverapp))


async def _run_snapshot_is_taken_on_the_runs_loop(jp_fetch, jp_serverapp) -> None:
    """A change the run makes in two parts is never seen half done by GET: the snapshot waits
    for the run's loop, where the change happens without an await in between."""
    services = jp_serverapp.web_app.settings["agentforge"]
    services.runs.agent_factory = _waiting_agent
    run_id = await start(jp_fetch, dataset="sales_q3")
    active = services.runs.active(run_id)
    halfway = threading.Event()

    async def change_in_two_parts() -> None:
        active.run.reason = "part one"
        halfway.set()
        time.sleep(0.5)  # no await: nothing else runs on this loop meanwhile
        active.run.insights_text = "part two"

    change = asyncio.run_coroutine_threadsafe(change_in_two_parts(), background_loop())
    await asyncio.to_thread(halfway.wait, 30)
    detail = await api(jp_fetch, "runs", run_id)
    assert (detail["reason"], detail["insights_text"]) == ("part one", "part two")
    listed = await api(jp_fetch, "runs")
    assert listed[0]["reason"] == "part one" and listed[0]["live"] is True
    await asyncio.wrap_future(change)
    services.runs.cancel(run_id)
    await asyncio.wrap_future(active.task)
    assert (await api(jp_fetch, "runs", run_id))["status"] == "cancelled"


def test_feed_publishes_in_seq_order_in_batches() -> None:
    """Events handed over out of order (two emitting threads) go out in seq order; a gap waits
    for its event; everything pending goes out in one write per subscriber."""
    loop = asyncio.new_event_loop()
    try:
        recorder = RunRecorder("20260101-000000-feed00")
        broadcast = Broadcast()
        writes: list[bytes] = []

        class Sink:
            def push(self, data: bytes) -> None:
                writes.append(data)

            def end(self) -> None:
                writes.append(b"<end>")

        broadcast.attach(Sink())
        feed = RunFeed(recorder, broadcast, loop)
        feed.handover_wait_s = 0  # this loop is not running: nobody would hand over
        first = recorder.emit("insight", index=0, text="a")
        second = recorder.emit("insight", index=1, text="b")
        feed._pending.clear()  # hand them over again, the later one first
        feed._on_event(second)
        feed.flush()
        assert broadcast.messages == [] and writes == []  # seq 0 is missing: wait
        feed._on_event(first)
        feed.flush()
        assert [m.split("\n")[0] for m in broadcast.messages] == ["id: 0", "id: 1"]
        assert len(writes) == 1 and writes[0].count(b"id: ") == 2
        recorder.emit("run_end", status="ok", reason="", duration_s=0.0)
        loop.run_until_complete(asyncio.sleep(0))  # the scheduled hand-over runs
        assert broadcast.done and writes[-1] == b"<end>"
    finally:
        loop.close()


class _Collect:
    def __init__(self) -> None:
        self.data: list[bytes] = []

    def push(self, data: bytes) -> None:
        self.data.append(data)

    def end(self) -> None:
        pass


def _loop_thread() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    return loop, thread


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_a_run_with_subscribers_waits_until_its_events_are_written() -> None:
    """With someone subscribed, `emit` returns once the server's loop has written the event to
    the subscribers (so the fan-out does not compete with the run for the GIL), even when the
    loop is busy for a moment."""
    loop, thread = _loop_thread()
    try:
        recorder = RunRecorder("20260101-000000-hand00")
        broadcast, sink = Broadcast(), _Collect()
        loop.call_soon_threadsafe(broadcast.attach, sink)
        feed = RunFeed(recorder, broadcast, loop)
        feed.handover_wait_s = 30.0  # bounded only by the loop being busy below
        loop.call_soon_threadsafe(time.sleep, 0.2)  # the server's loop is busy for a moment
        time.sleep(0.05)  # ... and already busy when the run emits
        recorder.emit("insight", index=0, text="written before emit returns")
        assert len(sink.data) == 1 and b"written before emit returns" in sink.data[0]
    finally:
        _stop(loop, thread)


def test_a_stuck_server_loop_holds_a_run_up_only_briefly() -> None:
    """The wait is bounded: a loop that does not come back does not stop the run, and the event
    still reaches the subscriber once the loop is free. With nobody subscribed there is no wait
    at all."""
    loop, thread = _loop_thread()
    release = threading.Event()
    try:
        recorder = RunRecorder("20260101-000000-hand01")
        broadcast, sink = Broadcast(), _Collect()
        loop.call_soon_threadsafe(broadcast.attach, sink)
        feed = RunFeed(recorder, broadcast, loop)
        feed.handover_wait_s = 0.01
        loop.call_soon_threadsafe(release.wait, 30)  # stuck until released
        emitter = threading.Thread(target=recorder.emit, args=("insight",),
                                   kwargs={"index": 0, "text": "late"})  # fmt: skip
        emitter.start()
        emitter.join(20)  # a hang guard, not a speed check
        assert not emitter.is_alive() and sink.data == []  # the run went on; nothing written yet
        release.set()
        deadline = time.monotonic() + 20
        while not sink.data and time.monotonic() < deadline:
            time.sleep(0.01)
        assert b"late" in b"".join(sink.data)
    finally:
        release.set()
        _stop(loop, thread)
