"""`agentforge analyze`: the main job, end to end, with the offline brain."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tests.fakes import FakeOpenAIServer

from .cli_support import agentforge

GOAL = "Which region drove Q3 revenue growth, and is it seasonal?"
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "agentforge_jupyter.cli", *args]


def plan_json(*titles: str) -> str:
    steps = [{"id": f"s{i}", "title": t} for i, t in enumerate(titles, start=1)]
    return json.dumps({"goal": "g", "steps": steps})


def add_brain(server: FakeOpenAIServer, state: Path) -> None:
    added = agentforge(
        "brains", "add", "fake", "--base-url", server.base_url, "--model", "fake-base", state=state
    )
    assert added.returncode == 0, added.stderr


def test_analyze_prints_progress_and_exports_a_notebook_that_reruns(tmp_path: Path) -> None:
    state = tmp_path / "state"
    target = tmp_path / "exports" / "q3.ipynb"
    out = agentforge("analyze", GOAL, "--export", str(target), state=state)
    assert out.returncode == 0, out.stderr
    assert "plan (" in out.stdout and "insights:" in out.stdout
    assert "West" in out.stdout
    assert f"exported notebook: {target}" in out.stdout

    notebook = nbformat.read(target, as_version=4)
    NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    rerun = "".join(
        o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "FACT: highest sum of revenue by region = West" in rerun


def test_analyze_json_and_dataset_path(tmp_path: Path) -> None:
    csv = tmp_path / "temps.csv"
    csv.write_text("city,temp\nOslo,3\nLima,19\nRome,14\n")
    out = agentforge(
        "analyze", "average temp by city", "--dataset", str(csv), "--json", state=tmp_path / "state"
    )
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)
    assert run["status"] == "ok"
    assert run["dataset"]["name"] == "temps"
    assert "goal:" in out.stderr  # progress goes to stderr when stdout carries JSON


def test_analyze_unknown_dataset_is_a_clear_error(tmp_path: Path) -> None:
    out = agentforge("analyze", "anything", "--dataset", "nope", state=tmp_path / "state")
    assert out.returncode == 2
    assert "nope" in out.stderr


def test_analyze_fails_with_nonzero_exit_when_the_run_fails(tmp_path: Path) -> None:
    # A brain endpoint that does not exist: the run fails, events intact, exit status 1.
    state = tmp_path / "state"
    added = agentforge(
        "brains",
        "add",
        "gone",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
        "--retries",
        "0",
        "--timeout",
        "2",
        state=state,
    )
    assert added.returncode == 0, added.stderr
    out = agentforge("analyze", "revenue by region", "--brain", "gone", state=state)
    assert out.returncode == 1
    assert "run failed" in out.stdout
    runs = list((state / "runs").glob("*/events.jsonl"))
    assert len(runs) == 1
    types = [json.loads(line)["type"] for line in runs[0].read_text().splitlines()]
    assert types[0] == "run_start" and types[-1] == "run_end"


def test_a_bad_export_path_fails_before_the_run(tmp_path: Path) -> None:
    state = tmp_path / "state"
    out = agentforge("analyze", GOAL, "--export", str(tmp_path / "notes.txt"), state=state)
    assert out.returncode == 2
    assert ".ipynb, or a directory" in out.stderr
    assert out.stderr.count("notes.txt") == 1  # said once
    assert not list(state.glob("runs/*")), "no run was started"
    blocker = tmp_path / "file"
    blocker.write_text("")
    out = agentforge("analyze", GOAL, "--export", str(blocker / "x.ipynb"), state=state)
    assert out.returncode == 2 and "cannot create files under" in out.stderr


def test_terminal_escapes_from_the_sandbox_and_the_brain_do_not_reach_the_terminal(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    with FakeOpenAIServer() as server:
        add_brain(server, state)
        server.default = "NO_TOOL"
        server.reply(
            plan_json(f"Show {OSC52} it"),
            f"```python\nprint({OSC52!r} + 'clipboard')\n```",
            "NO_TOOL",
            f"- insight {OSC52} done",
        )
        out = agentforge("analyze", "show it", "--brain", "fake", state=state)
    assert out.returncode == 0, out.stderr
    assert "clipboard" in out.stdout and "insight" in out.stdout
    assert "\x1b" not in out.stdout + out.stderr and "\x07" not in out.stdout + out.stderr


def test_a_model_title_or_insight_cannot_forge_progress_lines(tmp_path: Path) -> None:
    """Plan titles and insights are model text printed one per line: a line break in them let
    a model print lines that look like AgentForge's own ("run ok ...")."""
    state = tmp_path / "state"
    forged = "run ok in 0.1 s: 1 step(s) completed"
    with FakeOpenAIServer() as server:
        add_brain(server, state)
        server.default = "NO_TOOL"
        server.reply(
            plan_json(f"Count\n{forged}\u2028{forged}"),
            "```python\nprint(1 + 1)\n```",
            "NO_TOOL",
            f"- total\r\n{forged}",
        )
        out = agentforge("analyze", "count", "--brain", "fake", state=state)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert not any(line.startswith("run ok") and "completed" in line for line in lines[:-1])
    assert any(line.strip().startswith("1. Count") and forged in line for line in lines)
    assert "\u2028" not in out.stdout


def test_failed_attempts_show_the_last_frames_and_the_error_once(tmp_path: Path) -> None:
    state = tmp_path / "state"
    failing = "```python\ndf.groupby('no_such_column')['revenue'].sum()\n```"
    with FakeOpenAIServer() as server:
        add_brain(server, state)
        server.default = "- nothing"
        server.reply(plan_json("Group"), failing, failing, "- nothing")
        short = agentforge("analyze", "g", "--brain", "fake", "--repairs", "1", state=state)
        server.reply(plan_json("Group"), failing, "- nothing")
        full = agentforge(
            "analyze", "g", "--brain", "fake", "--repairs", "0", "--verbose", state=state
        )
    assert short.returncode == 1
    assert short.stdout.count("KeyError: 'no_such_column'") == 2  # one per attempt
    assert "more traceback line(s) with --verbose" in short.stdout
    assert "repair 1: asking the brain to fix the error" in short.stdout
    assert "asking for a repair" not in short.stdout
    long_lines = len(full.stdout.splitlines())
    assert long_lines > len(short.stdout.splitlines()) / 2 + 8  # the full traceback is longer
    assert "more traceback line(s)" not in full.stdout
    assert short.stderr.count("KeyError") == 0  # not printed again by the CLI


def test_sigterm_cancels_the_run_and_records_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with FakeOpenAIServer() as server:
        add_brain(server, state)
        server.reply(plan_json("Slow"))
        server.hang(120, "```python\nprint(1)\n```")
        env = {**os.environ, "AGENTFORGE_STATE_DIR": str(state)}
        process = subprocess.Popen(
            command("analyze", "slow", "--brain", "fake"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            events = _wait_for_event(state, "step_start", process)
            process.send_signal(signal.SIGTERM)
            _stdout, stderr = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "terminated" in stderr
    types = [json.loads(line)["type"] for line in events.read_text().splitlines()]
    assert types[-1] == "run_end"
    summary = json.loads((events.parent / "run.json").read_text())
    assert summary["status"] == "cancelled"


def _wait_for_event(state: Path, kind: str, process: subprocess.Popen) -> Path:
    """The run's events file once it holds an event of `kind` (the CLI is then mid-run)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for path in state.glob("runs/*/events.jsonl"):
            if f'"type": "{kind}"' in path.read_text() or f'"type":"{kind}"' in path.read_text():
                return path
        time.sleep(0.2)
    raise AssertionError(f"no {kind} event within the time allowed")


def test_steps_follow_the_same_rule_as_the_magic(tmp_path: Path) -> None:
    refused = agentforge("analyze", "revenue by region", "--steps", "0", state=tmp_path / "s")
    assert refused.returncode == 2
    assert "positive whole number" in refused.stderr and "Traceback" not in refused.stderr
