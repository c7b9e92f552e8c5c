"""Event stream: numbering, persistence, replay from any seq, subscribers, live iteration,
the consumer base class, and the contract every existing consumer is held to."""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import re
import threading

import nbformat
import pytest

from agentforge_jupyter.agent import Agent, Run, load_run
from agentforge_jupyter.cli.analyze import ProgressPrinter
from agentforge_jupyter.datasets import DatasetRegistry
from agentforge_jupyter.events import (
    EVENT_TYPES,
    Event,
    EventConsumer,
    EventError,
    RunRecorder,
    follow_events,
    new_run_id,
    read_events,
)
from agentforge_jupyter.export import export_notebook
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.widgets.run_view import RunView


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
    with pytest.raises(EventError, match=r"'insight' is missing .*\['text'\]"):
        recorder.emit("insight", index=0)
    with pytest.raises(EventError, match=r"missing .*'attempts', 'duration_s'"):
        recorder.emit("step_end", step="s1", status="ok")
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


# --------------------------------------------------------------------------- consumers


def test_consumer_dispatches_on_the_event_type():
    class Collect(EventConsumer):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def _on_insight(self, e: Event) -> None:
            self.seen.append(e["text"])

    consumer = Collect()
    consumer(Event("r", 0, "insight", 0.0, {"index": 0, "text": "a"}))
    consumer.apply(Event("r", 1, "plan_delta", 0.0, {"text": "{", "attempt": 0}))  # no handler
    assert consumer.seen == ["a"]
    assert Collect.handled_types() == ["insight"]


def test_consumer_with_a_misspelt_handler_is_refused_at_class_creation():
    with pytest.raises(EventError, match="_on_insights") as caught:

        class Typo(EventConsumer):
            def _on_insights(self, e: Event) -> None:  # the type is "insight"
                pass

    assert "insight" in str(caught.value)

    class Fine(EventConsumer):
        def _on_run_end(self, e: Event) -> None:
            pass

        def _helper(self) -> None:  # other private names are the subclass's business
            pass

    assert Fine.handled_types() == ["run_end"]


# --------------------------------------------------------------------------- the contract
# A real offline run (offline brain, real sandbox kernel) and its events fed through every
# consumer that exists: the notebook run view, the CLI printer, and the exporter (which reads
# the run back from its directory).

# Every consumer, with the prefix of the methods it dispatches to ("on_<type>" for the CLI
# printer, "_on_<type>" for the others).
CONSUMERS = [(RunView, "_on_"), (ProgressPrinter, "on_")]


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory) -> Run:
    store = StateDir(tmp_path_factory.mktemp("contract") / "state")
    DatasetRegistry(store).ensure_sample()
    with Agent(
        brain="offline", dataset="sales_q3", state=store, propose_tools=True, auto_register=True
    ) as agent:
        run = agent.run("Which region drove Q3 revenue, and what is the weekly trend?")
    assert run.status == "ok", run.reason
    return run


@pytest.mark.parametrize(("consumer", "prefix"), CONSUMERS)
def test_every_handler_names_an_event_type(consumer, prefix):
    handlers = [n for n, _ in inspect.getmembers(consumer) if n.startswith(prefix)]
    assert handlers, f"{consumer.__name__} has no {prefix}<type> handlers"
    unknown = [n for n in handlers if n[len(prefix) :] not in EVENT_TYPES]
    assert unknown == [], f"{consumer.__name__} handles no such event type: {unknown}"


def test_the_run_emits_only_contract_events_with_their_keys(offline_run):
    seen = {e.type for e in offline_run.events}
    assert {"run_start", "plan", "step_start", "code", "lint", "output", "execution"} <= seen
    assert {"observation", "step_end", "insight", "tool_proposal", "run_end"} <= seen
    for event in read_events(offline_run.run_dir):
        missing = [k for k in EVENT_TYPES[event.type] if k not in event.data]
        assert missing == [], (event.type, missing)


def test_the_notebook_view_renders_the_run(offline_run):
    view = RunView()
    for event in read_events(offline_run.run_dir):
        view.apply(event)
    assert view.status == "ok" and view.goal == offline_run.goal
    assert len(view.steps) == len(offline_run.steps)
    assert all(step.status == "ok" for step in view.steps.values())
    assert view.insights == offline_run.insights
    html = view.html()
    assert "<img src='data:image/png;base64," in html  # the weekly chart
    assert any(m.startswith("tool proposed") for m in view.messages)


def test_the_cli_printer_prints_the_run(offline_run):
    out = io.StringIO()
    printer = ProgressPrinter(out)
    for event in read_events(offline_run.run_dir):
        printer(event)
    text = out.getvalue()
    assert text.startswith(f"goal: {offline_run.goal}")
    assert f"plan ({len(offline_run.plan.steps)} steps):" in text
    assert "insights:" in text and "tool proposed:" in text
    assert text.rstrip().splitlines()[-1].startswith("run ok in")


def test_the_exporter_writes_the_run_read_back_from_disk(offline_run, tmp_path):
    loaded = load_run(offline_run.run_dir)
    assert [e.to_dict() for e in loaded.events] == [e.to_dict() for e in offline_run.events]
    assert loaded.state_root == offline_run.state_root
    notebook = nbformat.read(export_notebook(loaded, tmp_path / "run.ipynb"), as_version=4)
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert all(step.code.strip() in code for step in offline_run.steps)
    assert notebook.metadata.agentforge["run_id"] == offline_run.run_id
