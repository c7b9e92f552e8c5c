"""`agentforge analyze`: the main job, end to end, with the offline brain."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .test_cli import agentforge

GOAL = "Which region drove Q3 revenue growth, and is it seasonal?"


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
