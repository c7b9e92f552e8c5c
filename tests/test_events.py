"""Event stream: numbering, persistence, replay from any seq, subscribers, live iteration."""

from __future__ import annotations

import asyncio
import json
import re
import threading

import pytest

from agentforge_jupyter.events import (
    EVENT_TYPES,
    Event,
    EventError,
    RunRecorder,
    follow_events,
    new_run_id,
    read_events,
)


def test_run_ids_are_sortable_and_unique():
    first = new_run_id(now=1_700_000_000)
    later = new_run_id(now=1_700_000_001)
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", first)
    assert first < later
    assert len({new_run_id() for _ in range(200)}) == 200


def test_emit_numbers_persists_and_replays(tmp_path):
    recorder = RunRecorder("r1", tmp_path)
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
    recorder.emit("plan_delta", text="{", attempt=0)
    recorder.emit("plan", plan={"goal": "g", "steps": []}, attempt=0)
    assert [e.seq for e in recorder.events] == [0, 1, 2]
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [0, 1, 2]
    first = json.loads(lines[0])
    assert first["run_id"] == "r1" and first["type"] == "run_start" and first["goal"] == "g"
    assert isinstance(first["ts"], float)

    replayed = read_events(tmp_path)
    assert [e.to_dict() for e in replayed] == [e.to_dict() for e in recorder.events]
    assert [e.type for e in read_events(tmp_path, since_seq=1)] == ["plan_delta", "plan"]
    assert read_events(tmp_path / "events.jsonl", since_seq=3) == []


def test_truncated_last_line_is_skipped(tmp_path):
    recorder = RunRecorder("r1", tmp_path)
    recorder.emit("plan_delta", text="a", attempt=0)
    recorder.emit("plan_delta", text="b", attempt=0)
    with open(tmp_path / "events.jsonl", "a") as fh:
        fh.write('{"run_id": "r1", "seq": 2, "type": "plan_de')  # a crash mid-write
    events = read_events(tmp_path)
    assert [e["text"] for e in events] == ["a", "b"]
    # A later writer starts on a new line; the partial record stays skipped.
    recorder.emit("plan_delta", text="c", attempt=0)
    assert [e["text"] for e in read_events(tmp_path)] == ["a", "b", "c"]


def test_missing_log_reads_empty(tmp_path):
    assert read_events(tmp_path / "nothing-here") == []


def test_event_round_trip_and_access():
    event = Event("r", 4, "insight", 1.5, {"index": 0, "text": "t"})
    assert Event.from_dict(event.to_dict()) == event
    assert event["text"] == "t" and event.get("missing", 7) == 7


def test_unknown_type_and_bad_payload_are_refused(tmp_path):
    recorder = RunRecorder("r1", tmp_path)
    with pytest.raises(EventError, match="unknown event type"):
        recorder.emit("bogus")
    with pytest.raises(EventError, match="envelope"):
        recorder.emit("insight", index=0, text="x", seq=9)
    with pytest.raises(EventError, match="JSON"):
        recorder.emit("insight", index=0, text=object())
    with pytest.raises(EventError, match="JSON"):
        recorder.emit("insight", index=0, text=float("nan"))
    assert recorder.events == []
    assert read_events(tmp_path) == []
    recorder.emit("insight", index=0, text="fine")
    assert [e.seq for e in read_events(tmp_path)] == [0]


def test_every_documented_type_can_be_emitted(tmp_path):
    recorder = RunRecorder("r1", tmp_path)
    for kind, keys in EVENT_TYPES.items():
        if kind != "run_end":
            recorder.emit(kind, **dict.fromkeys(keys, "x"))
    recorder.emit("run_end", status="ok", reason="", duration_s=0.0)
    assert [e.type for e in read_events(tmp_path)] == list(EVENT_TYPES)


def test_subscribers_see_events_in_order_and_a_failing_one_is_contained(tmp_path, caplog):
    recorder = RunRecorder("r1", tmp_path)
    seen: list[int] = []

    def broken(event: Event) -> None:
        raise RuntimeError("renderer bug")

    recorder.subscribe(broken)
    unsubscribe = recorder.subscribe(lambda e: seen.append(e.seq))
    recorder.emit("insight", index=0, text="a")
    recorder.emit("insight", index=1, text="b")
    unsubscribe()
    recorder.emit("insight", index=2, text="c")
    assert seen == [0, 1]
    assert len(read_events(tmp_path)) == 3
    assert "renderer bug" in caplog.text

    late: list[int] = []
    recorder.subscribe(lambda e: late.append(e.seq), replay=True)
    assert late == [0, 1, 2]


def test_no_events_after_run_end(tmp_path):
    recorder = RunRecorder("r1", tmp_path)
    recorder.emit("run_end", status="ok", reason="", duration_s=0.1)
    with pytest.raises(EventError, match="ended"):
        recorder.emit("insight", index=0, text="late")


def test_in_memory_recorder_without_directory():
    recorder = RunRecorder("r1")
    recorder.emit("insight", index=0, text="a")
    assert recorder.path is None and len(recorder.events) == 1


async def test_async_stream_replays_then_follows_live(tmp_path):
    recorder = RunRecorder("r1", tmp_path)
    recorder.emit("insight", index=0, text="early")
    recorder.emit("insight", index=1, text="early2")
    received: list[str] = []

    async def consume() -> None:
        async for event in recorder.stream(since_seq=1):
            received.append(event.type)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)

    def producer() -> None:  # events may come from another thread
        recorder.emit("insight", index=2, text="live")
        recorder.emit("run_end", status="ok", reason="", duration_s=0.0)

    thread = threading.Thread(target=producer)
    thread.start()
    thread.join()
    await asyncio.wait_for(consumer, 10)
    assert received == ["insight", "insight", "run_end"]

    # A finished run's stream replays and ends at once.
    assert [e.seq async for e in recorder] == [0, 1, 2, 3]


async def test_follow_events_tails_another_writer(tmp_path):
    recorder = RunRecorder("r1", tmp_path)
    recorder.emit("insight", index=0, text="a")

    async def write_later() -> None:
        await asyncio.sleep(0.05)
        recorder.emit("insight", index=1, text="b")
        await asyncio.sleep(0.05)
        recorder.emit("run_end", status="ok", reason="", duration_s=0.0)

    writer = asyncio.create_task(write_later())
    seqs = [e.seq async for e in follow_events(tmp_path, since_seq=1, poll_s=0.01)]
    await writer
    assert seqs == [1, 2]
