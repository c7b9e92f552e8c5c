"""`%agent_eval` after `%load_ext agentforge_jupyter`: progress, live table, the result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell


def test_agent_eval_shows_progress_and_returns_the_result(
    magic_shell: InteractiveShell, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "t.csv").write_text("a\n1\n")
    question = {
        "id": 1,
        "question": "rows?",
        "format": "@rows[n]",
        "file_name": "t.csv",
        "level": "easy",
        "constraints": "",
        "concepts": [],
    }
    (bench / "questions.jsonl").write_text(json.dumps(question))
    (bench / "labels.jsonl").write_text(json.dumps({"id": 1, "common_answers": [["rows", "1"]]}))
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": 1, "response": "@rows[1]"}))

    result = magic_shell.run_line_magic(
        "agent_eval", f"dabench:{bench} --brain replay:{tmp_path / 'a.jsonl'}"
    )

    brain = f"replay:{tmp_path / 'a.jsonl'}"
    assert result.summary["brains"][brain]["passed"] == 1
    out = capsys.readouterr().out
    assert f"evaluation {result.id}" in out and "100.0% (1/1)" in out


def test_agent_eval_rejects_unknown_options(magic_shell: InteractiveShell) -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError):
        magic_shell.run_line_magic("agent_eval", "ds1000:x --frobnicate")


def test_progress_widget_updates_and_escapes_names() -> None:
    from agentforge_jupyter.evals.tasks import TaskRecord
    from agentforge_jupyter.magics.eval import EvalProgress

    brain = "replay:<script>alert(1)</script>.jsonl"
    progress = EvalProgress([brain])
    progress(TaskRecord(task_id="1", brain=brain, category="easy", passed=True), 1, 4)
    assert (progress.bar.value, progress.bar.max) == (1, 4)
    assert "<script>" not in progress.table.value
    assert "&lt;script&gt;" in progress.table.value and "100.0% (1/1)" in progress.table.value
