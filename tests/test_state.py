"""State directory: versioned documents, locking, crash safety, corruption handling, JSONL."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from agentforge_jupyter.errors import CorruptStateError, StateError
from agentforge_jupyter.state import (
    STATE_DIR_ENV,
    StateDir,
    append_jsonl,
    read_jsonl,
    state_dir,
)

# --------------------------------------------------------------------------- layout


def test_state_dir_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "custom"))
    assert state_dir() == tmp_path / "custom"
    assert StateDir().root == tmp_path / "custom"


def test_state_dir_default_is_per_user_unless_a_local_state_exists(monkeypatch, tmp_path):
    monkeypatch.delenv(STATE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    assert state_dir() == tmp_path / "xdg" / "agentforge" / "state"
    assert not (tmp_path / "state").exists()  # no ./state is created in every notebook folder
    (tmp_path / "state").mkdir()
    assert state_dir() == tmp_path / "state"
    assert state_dir().is_absolute()


def test_state_dir_env_pointing_at_a_file_is_a_clear_error(monkeypatch, tmp_path):
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "afile"))
    with pytest.raises(StateError, match="is a file, not a directory") as info:
        state_dir()
    assert "repair" not in str(info.value)
    with pytest.raises(StateError, match="is a file"):
        StateDir(tmp_path / "afile").document("datasets").read()


def test_paths_and_directories_created_on_demand(tmp_path):
    store = StateDir(tmp_path / "s")
    assert store.datasets_json == tmp_path / "s" / "datasets.json"
    assert store.tools_json.name == "tools.json"
    assert store.brains_json.name == "brains.json"
    assert not (tmp_path / "s").exists()
    for prop in ("data_dir", "runs_dir", "training_dir"):
        assert getattr(store, prop).is_dir()
    assert store.run_dir("run-1") == tmp_path / "s" / "runs" / "run-1"
    assert store.run_dir("run-1").is_dir()
    with pytest.raises(StateError):
        store.run_dir("../escape")
    with pytest.raises(StateError):
        store.document("../x")


# --------------------------------------------------------------------------- documents


def test_missing_document_reads_empty(tmp_path):
    doc = StateDir(tmp_path).document("tools")
    assert doc.read() == {"schema": "agentforge.tools", "version": 1, "items": {}}
    assert not doc.path.exists()


def test_update_writes_pretty_sorted_json_with_newline(tmp_path):
    doc = StateDir(tmp_path).document("datasets")
    with doc.update() as data:
        data["items"]["b"] = {"z": 1, "a": [1, 2]}
        data["items"]["a"] = "é"
    text = doc.path.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert text.index('"a"') < text.index('"b"')  # sorted keys
    assert '\n  "items": {' in text  # indented
    assert "é" in text  # human-readable, not \u-escaped
    assert json.loads(text)["items"]["b"] == {"z": 1, "a": [1, 2]}
    assert doc.read()["schema"] == "agentforge.datasets"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_failed_update_writes_nothing(tmp_path):
    doc = StateDir(tmp_path).document("tools")
    with doc.update() as data:
        data["items"]["keep"] = 1
    before = doc.path.read_bytes()
    with pytest.raises(RuntimeError), doc.update() as data:
        data["items"]["lost"] = 2
        raise RuntimeError("boom")
    assert doc.path.read_bytes() == before


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d.pop("items"),
        lambda d: d.__setitem__("schema", "agentforge.other"),
        lambda d: d["items"].__setitem__("bad", {1, 2}),  # not JSON-serialisable
    ],
)
def test_invalid_new_content_is_refused(tmp_path, mangle):
    doc = StateDir(tmp_path).document("tools")
    with doc.update() as data:
        data["items"]["keep"] = 1
    before = doc.path.read_bytes()
    with pytest.raises(StateError, match="Refusing to write"), doc.update() as data:
        mangle(data)
    assert doc.path.read_bytes() == before


def test_nested_update_is_refused(tmp_path):
    doc = StateDir(tmp_path).document("tools")
    with pytest.raises(StateError, match="Nested"), doc.update(), doc.update():
        pass
    other = StateDir(tmp_path).document("tools")  # another object, same file: no deadlock
    with pytest.raises(StateError, match="Nested"), doc.update(), other.update():
        pass
    with doc.update(), StateDir(tmp_path).document("brains").update() as data:
        data["items"]["ok"] = 1  # different documents may nest
    assert StateDir(tmp_path).document("brains").read()["items"] == {"ok": 1}


def test_lock_timeout_names_the_lock(tmp_path):
    store = StateDir(tmp_path, lock_timeout=0.2)
    doc = store.document("tools")
    tmp_path.mkdir(exist_ok=True)
    fd = os.open(doc.lock_path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another open file description: conflicts like a process
        with pytest.raises(StateError, match="Timed out") as info, doc.update():
            pass
        assert str(doc.lock_path) in str(info.value)
    finally:
        os.close(fd)
    with doc.update() as data:  # usable again once released
        data["items"]["ok"] = True
    assert doc.read()["items"] == {"ok": True}


# --------------------------------------------------------------------------- concurrency


def _increment_worker(root: str, worker: int, count: int, start) -> None:
    start.wait()
    doc = StateDir(root).document("counter")
    for i in range(count):
        with doc.update() as data:
            data["items"]["counter"] = data["items"].get("counter", 0) + 1
            data["items"][f"w{worker}-{i}"] = True


def test_8_processes_x_50_updates_lose_nothing(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_increment_worker, args=(str(tmp_path), w, 50, start)) for w in range(8)
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    items = StateDir(tmp_path).document("counter").read()["items"]
    assert items["counter"] == 400
    assert {k for k in items if k != "counter"} == {
        f"w{w}-{i}" for w in range(8) for i in range(50)
    }


def test_8_threads_x_50_updates_lose_nothing(tmp_path):
    start = threading.Event()
    threads = [
        threading.Thread(target=_increment_worker, args=(str(tmp_path), w, 50, start))
        for w in range(8)
    ]
    for t in threads:
        t.start()
    start.set()
    for t in threads:
        t.join(timeout=300)
    items = StateDir(tmp_path).document("counter").read()["items"]
    assert items["counter"] == 400
    assert len(items) == 401


# --------------------------------------------------------------------------- crash safety

_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from agentforge_jupyter.state import StateDir

    def version(n):
        items = {f"k{j:05d}": f"{n}-{j}-" + "x" * 40 for j in range(20000)}
        items["n"] = n
        return {"schema": "agentforge.big", "version": 1, "items": items}

    root, first, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    doc = StateDir(root).document("big")
    n = first
    if mode == "stall":
        doc.write(version(n))
        n += 1
        real_fsync = os.fsync
        def stalled_fsync(fd):
            print("stalling", flush=True)
            time.sleep(60)
            real_fsync(fd)
        os.fsync = stalled_fsync
    print("ready", flush=True)
    while True:
        doc.write(version(n))
        n += 1
    """
)


def _expected_version(n: int) -> dict:
    items: dict = {f"k{j:05d}": f"{n}-{j}-" + "x" * 40 for j in range(20000)}
    items["n"] = n
    return {"schema": "agentforge.big", "version": 1, "items": items}


def _start_writer(root: Path, first: int, mode: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(root), str(first), mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_killing_writer_at_random_moments_leaves_a_valid_document(tmp_path):
    rng = random.Random(1234)
    doc = StateDir(tmp_path).document("big")
    first = 0
    for _ in range(8):
        proc = _start_writer(tmp_path, first, "loop")
        threading.Event().wait(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        if not doc.path.exists():  # killed before its first write finished
            continue
        data = doc.read()  # parses and validates, or raises
        n = data["items"]["n"]
        assert data == _expected_version(n)
        first = n + 1
    assert doc.path.exists()


def test_writer_killed_between_write_and_rename_keeps_previous_version(tmp_path):
    doc = StateDir(tmp_path).document("big")
    proc = _start_writer(tmp_path, 7, "stall")
    assert proc.stdout.readline().strip() == "stalling"  # temp file written, not yet renamed
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert doc.read() == _expected_version(7)
    stray = list(tmp_path.glob(".big.json.*.tmp"))
    assert len(stray) == 1  # the dead writer's half-finished file
    with doc.update() as data:
        data["items"]["n"] = 8
    assert list(tmp_path.glob(".big.json.*.tmp")) == []  # cleaned up under the lock


# --------------------------------------------------------------------------- corruption


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"schema": "agentforge.datasets", "version": 1, "items": {', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"[1, 2, 3]\n", "does not hold a JSON object"),
        (b'{"schema": "agentforge.tools", "version": 1, "items": {}}', "has schema"),
        (b'{"version": 1, "items": {}}', "has schema None"),
        (b'{"schema": "agentforge.datasets", "version": 99, "items": {}}', "newer than"),
        (b'{"schema": "agentforge.datasets", "version": "1", "items": {}}', "version"),
        (b'{"schema": "agentforge.datasets", "version": 1, "items": []}', "'items'"),
    ],
)
def test_corrupt_document_raises_names_file_and_is_untouched(tmp_path, content, problem):
    store = StateDir(tmp_path)
    doc = store.document("datasets")
    doc.path.write_bytes(content)
    with pytest.raises(CorruptStateError) as info:
        doc.read()
    message = str(info.value)
    assert str(doc.path) in message
    assert problem in message
    assert "agentforge state repair datasets" in message
    with pytest.raises(CorruptStateError), doc.update() as data:
        data["items"]["x"] = 1
    assert doc.path.read_bytes() == content  # never overwritten silently


def test_newer_version_says_upgrade(tmp_path):
    doc = StateDir(tmp_path).document("datasets")
    doc.path.write_text('{"schema": "agentforge.datasets", "version": 2, "items": {}}')
    with pytest.raises(CorruptStateError, match="upgrade agentforge_jupyter"):
        doc.read()


def test_unreadable_document_is_corrupt_state(tmp_path):
    doc = StateDir(tmp_path).document("brains")
    doc.path.mkdir()  # a directory where the file should be
    with pytest.raises(CorruptStateError, match="cannot be read") as info:
        doc.read()
    assert str(doc.path) in str(info.value)


def test_quarantine_keeps_bad_file_aside_and_starts_fresh(tmp_path):
    store = StateDir(tmp_path)
    doc = store.document("datasets")
    bad = b'{"schema": "agentforge.datasets", "items": oops'
    doc.path.write_bytes(bad)
    kept = store.repair("datasets")
    assert kept is not None
    assert kept.parent == tmp_path
    assert kept.name.startswith("datasets.corrupt-")
    assert kept.name.endswith(".json")
    assert kept.read_bytes() == bad
    assert doc.read() == doc.empty()
    with doc.update() as data:
        data["items"]["fresh"] = 1
    assert doc.read()["items"] == {"fresh": 1}
    assert store.repair("missing_doc") is None


def test_two_quarantines_keep_both_files(tmp_path):
    doc = StateDir(tmp_path).document("tools")
    doc.path.write_text("bad 1")
    first = doc.quarantine()
    doc.path.write_text("bad 2")
    second = doc.quarantine()
    assert first != second
    assert first.read_text() == "bad 1"
    assert second.read_text() == "bad 2"


# --------------------------------------------------------------------------- JSONL


def test_jsonl_append_and_read(tmp_path):
    log = tmp_path / "runs" / "r1" / "events.jsonl"
    for seq in range(3):
        append_jsonl(log, {"seq": seq, "text": "line\nbreak é"})
    result = read_jsonl(log)
    assert [r["seq"] for r in result] == [0, 1, 2]
    assert result.records[0]["text"] == "line\nbreak é"
    assert not result.truncated
    assert result.bad_lines == []
    assert result.next_offset == log.stat().st_size
    assert log.read_bytes().count(b"\n") == 3


def test_jsonl_tail_from_offset(tmp_path):
    log = tmp_path / "events.jsonl"
    append_jsonl(log, {"seq": 0})
    first = read_jsonl(log)
    append_jsonl(log, {"seq": 1})
    append_jsonl(log, {"seq": 2})
    rest = read_jsonl(log, start=first.next_offset)
    assert [r["seq"] for r in rest] == [1, 2]
    assert read_jsonl(log, start=rest.next_offset).records == []


def test_jsonl_truncated_last_line_is_skipped_and_reported(tmp_path):
    log = tmp_path / "events.jsonl"
    append_jsonl(log, {"seq": 0})
    append_jsonl(log, {"seq": 1})
    complete = log.stat().st_size
    with open(log, "ab") as fh:
        fh.write(b'{"seq": 2, "te')  # a writer died mid-line
    result = read_jsonl(log)
    assert [r["seq"] for r in result] == [0, 1]
    assert result.truncated
    assert result.next_offset == complete  # a tailer retries the partial line later
    # The next append starts on a fresh line; the partial one becomes a reported bad line.
    append_jsonl(log, {"seq": 3})
    after = read_jsonl(log)
    assert [r["seq"] for r in after] == [0, 1, 3]
    assert after.bad_lines == [3]
    assert not after.truncated


def test_jsonl_missing_file_reads_empty(tmp_path):
    result = read_jsonl(tmp_path / "nope.jsonl")
    assert result.records == []
    assert result.next_offset == 0


def _append_worker(path: str, worker: int, count: int) -> None:
    for i in range(count):
        append_jsonl(path, {"worker": worker, "i": i, "pad": "y" * 500})


def test_jsonl_concurrent_appenders_do_not_interleave(tmp_path):
    log = tmp_path / "events.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_worker, args=(str(log), w, 100)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    result = read_jsonl(log)
    assert result.bad_lines == []
    assert len(result) == 400
    assert {(r["worker"], r["i"]) for r in result} == {(w, i) for w in range(4) for i in range(100)}
