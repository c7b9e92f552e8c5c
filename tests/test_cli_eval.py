"""`agentforge eval` from the command line: run, list, show, report, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from .cli_support import agentforge

QUESTION = {
    "id": 7,
    "question": "How many rows?",
    "concepts": ["Summary Statistics"],
    "constraints": "",
    "format": "@rows[count]",
    "file_name": "t.csv",
    "level": "easy",
}


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    root = tmp_path / "bench"
    root.mkdir()
    (root / "t.csv").write_text("a\n1\n2\n")
    (root / "questions.jsonl").write_text(json.dumps(QUESTION) + "\n")
    (root / "labels.jsonl").write_text(
        json.dumps({"id": 7, "common_answers": [["rows", "2"]]}) + "\n"
    )
    (tmp_path / "good.jsonl").write_text(json.dumps({"id": 7, "response": "@rows[2]"}) + "\n")
    (tmp_path / "bad.jsonl").write_text(json.dumps({"id": 7, "response": "@rows[3]"}) + "\n")
    return root


def test_eval_compare_list_show_and_report(bench: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.ipynb"
    done = agentforge(
        "eval",
        f"dabench:{bench}",
        "--brain",
        "replay:good.jsonl",
        "--brain",
        "replay:bad.jsonl",
        "--json",
        "--report",
        str(report),
        "--out",
        "copy",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    output = json.loads(done.stdout)
    brains = output["summary"]["brains"]
    assert brains["replay:good.jsonl"]["passed"] == 1 and brains["replay:bad.jsonl"]["passed"] == 0
    assert (tmp_path / "copy" / "results.jsonl").read_text().count("\n") == 2

    notebook = nbformat.read(report, as_version=4)
    chart = notebook.cells[-1]
    assert chart.outputs[0]["data"]["image/png"]
    assert "json.loads(" in chart.source

    listing = agentforge("eval", "list", "--json", cwd=tmp_path)
    assert [row["id"] for row in json.loads(listing.stdout)] == [output["id"]]
    shown = agentforge("eval", "show", output["id"], cwd=tmp_path)
    assert shown.returncode == 0
    assert "replay:good.jsonl - replay:bad.jsonl: +100.0%" in shown.stdout


def test_eval_errors_are_clear(tmp_path: Path) -> None:
    missing = agentforge("eval", "ds1000:nowhere.jsonl", "--brain", "replay:x.jsonl", cwd=tmp_path)
    assert missing.returncode == 2
    assert "not found" in missing.stderr and "Traceback" not in missing.stderr
    unknown = agentforge("eval", "mmlu:x", "--brain", "offline", cwd=tmp_path)
    assert "unknown suite 'mmlu'" in unknown.stderr
    show = agentforge("eval", "show", "20990101-000000-abcdef", cwd=tmp_path)
    assert show.returncode == 2 and "no evaluation" in show.stderr
