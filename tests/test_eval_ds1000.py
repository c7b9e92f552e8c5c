"""DS-1000 through `agentforge eval`: the benchmark's own protocol, in the sandbox, resumable."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentforge_jupyter.evals import EvalError, run_eval
from agentforge_jupyter.evals.ds1000 import RUNNER, load_ds1000, postprocess, program_for
from agentforge_jupyter.evals.store import EvalStore
from agentforge_jupyter.evals.suites import select
from agentforge_jupyter.evals.tasks import TaskRecord
from agentforge_jupyter.state import StateDir

DS1000 = Path("data") / "ds1000" / "ds1000-pandas-numpy.jsonl.gz"
PLAIN = (
    RUNNER
    + """
import json, sys
programs = json.load(open(sys.argv[1]))
print(json.dumps({pid: _ds1000_one(program, 120) for pid, program in programs.items()}))
"""
)


def _subset(shared: Path, tmp_path: Path, ids: list[str]) -> Path:
    """A DS-1000 file holding only `ids`, in the released format."""
    path = tmp_path / "subset.jsonl.gz"
    with gzip.open(shared / DS1000, "rt") as source, gzip.open(path, "wt") as target:
        for line in source:
            if json.loads(line)["metadata"]["problem_id"] in {int(i) for i in ids}:
                target.write(line)
    return path


def _replay_file(tmp_path: Path, answers: dict[str, object], name: str) -> str:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps({"id": int(k), "code": v}) for k, v in answers.items()))
    return f"replay:{path}"


def _plain_verdicts(tasks: list, tmp_path: Path) -> dict[str, str]:
    programs = {t.id: program_for(t, t.payload["reference"]) for t in tasks}
    path = tmp_path / "programs.json"
    path.write_text(json.dumps(programs))
    out = subprocess.run(
        [sys.executable, "-c", PLAIN, str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=900,
        check=True,
    )
    return json.loads(out.stdout)


def test_postprocess_reads_code_as_ds1000_does() -> None:
    assert postprocess("```python\nresult = df.sum()\n```\nexplanation") == "result = df.sum()\n"
    assert postprocess("result = 1\n</code>\nEND SOLUTION\nmore") == "result = 1\n"


def test_a_bad_release_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "p", "reference_code": "x", "code_context": "c"}\n')
    with pytest.raises(EvalError, match="line 1: field 'metadata' is missing"):
        load_ds1000(path)


@pytest.mark.usefixtures("full_isolation")
def test_replayed_references_agree_with_a_plain_process(shared: Path, tmp_path: Path) -> None:
    tasks = select(load_ds1000(shared / DS1000), limit=16, seed=7)
    expected = _plain_verdicts(tasks, tmp_path)
    suite = f"ds1000:{_subset(shared, tmp_path, [t.id for t in tasks])}"
    references = _replay_file(tmp_path, {t.id: t.payload["reference"] for t in tasks}, "ref.jsonl")
    wrong = _replay_file(tmp_path, {t.id: ["result = None\n"] for t in tasks}, "wrong.jsonl")

    result = run_eval(suite, [references, wrong], workers=2, timeout=60)

    records = {(r.brain, r.task_id): r for r in result.store.records()}
    for task in tasks:
        assert records[(references, task.id)].passed == (expected[task.id] == ""), task.id
        assert not records[(wrong, task.id)].passed, task.id
    comparison = result.summary["comparisons"][0]
    passing = sum(1 for v in expected.values() if v == "")
    assert comparison["only_a"] == passing and comparison["only_b"] == 0
    assert comparison["ci_low"] > 0


@pytest.mark.usefixtures("full_isolation")
def test_crashes_and_timeouts_fail_the_task_not_the_evaluation(
    shared: Path, tmp_path: Path
) -> None:
    tasks = load_ds1000(shared / DS1000)[:3]
    suite = f"ds1000:{_subset(shared, tmp_path, [t.id for t in tasks])}"
    hostile = {
        tasks[0].id: "import os\nos.kill(os.getpid(), 9)\n",
        tasks[1].id: "while True:\n    pass\n",
        tasks[2].id: "import os\nos.kill(os.getppid(), 9)\n",  # kills the sandbox kernel itself
    }
    brain = _replay_file(tmp_path, hostile, "hostile.jsonl")
    result = run_eval(suite, [brain], workers=1, timeout=3)
    errors = {r.task_id: r.error_class for r in result.store.records()}
    assert errors[tasks[0].id] == "Killed(SIGKILL)"
    assert errors[tasks[1].id] == "Timeout"
    assert errors[tasks[2].id].startswith("sandbox:")
    assert result.summary["brains"][brain]["passed"] == 0


@pytest.mark.usefixtures("full_isolation")
def test_resume_runs_only_what_is_missing(shared: Path, tmp_path: Path) -> None:
    tasks = load_ds1000(shared / DS1000)[:3]
    suite = f"ds1000:{_subset(shared, tmp_path, [t.id for t in tasks])}"
    brain = _replay_file(tmp_path, {t.id: t.payload["reference"] for t in tasks}, "r.jsonl")
    first = run_eval(suite, [brain], workers=1, limit=1)
    # An interrupted run of all three: spec for three, one record written before the stop.
    full = run_eval(suite, [brain], workers=1)
    store = EvalStore.open(StateDir(), full.id)
    kept = [r for r in store.records() if r.task_id == tasks[0].id]
    store.results_path.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in kept))
    seen: list[TaskRecord] = []
    resumed = run_eval("", [], resume=full.id, on_record=lambda r, done, total: seen.append(r))
    assert sorted(r.task_id for r in seen) == sorted(t.id for t in tasks[1:])
    assert resumed.summary["brains"][brain]["tasks"] == 3
    assert first.summary["brains"][brain]["tasks"] == 1
