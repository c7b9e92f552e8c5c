"""InfiAgent-DABench's closed-form questions, scored as the benchmark's own script scores them.

Layout: a questions JSONL (`id`, `question`, `concepts`, `constraints`, `format`, `file_name`,
`level`), a labels JSONL (`id`, `common_answers`: `[[name, value], ...]`) and the folder of CSV
files. An answer is the `@name[value]` pairs that `format` asks for; a sub-answer is right when
it equals the label as a string or, read as numbers, within 1e-6. A question with no response is
left out of the benchmark's accuracies (as its script does); we also count it as a failure in
`passed`, so that comparisons between brains never reward silence.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .tasks import EvalError, Task, read_id_records

ANSWER_RE = re.compile(r"@(\w+)\[(.*?)\]")
QUESTIONS_GLOB = ("*questions*.jsonl",)
LABELS_GLOB = ("*labels*.jsonl",)


def load_dabench(directory: str | Path) -> list[Task]:
    """Questions with their labels and CSV paths, from a DABench-style folder."""
    root = Path(directory).expanduser()
    if not root.is_dir():
        raise EvalError(f"DABench folder {str(root)!r} not found: pass dabench:DIR.")
    questions = _read_jsonl(_one(root, "questions"))
    labels = {str(item.get("id")): item for item in _read_jsonl(_one(root, "labels"))}
    tasks = [_task(q, labels, root) for q in questions]
    if not tasks:
        raise EvalError(f"{root} holds no DABench questions.")
    return tasks


def _one(root: Path, kind: str) -> Path:
    found = sorted(root.glob(f"*{kind}*.jsonl"))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise EvalError(f"{root}: expected one *{kind}*.jsonl file, found {names}.")
    return found[0]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [record for _, record in read_id_records(path)]


def _task(question: dict[str, Any], labels: dict[str, dict[str, Any]], root: Path) -> Task:
    qid = str(question["id"])
    label = labels.get(qid)
    if label is None:
        raise EvalError(f"DABench question {qid} has no label in the labels file.")
    answers = label.get("common_answers")
    if not isinstance(answers, list) or not all(_is_pair(a) for a in answers):
        raise EvalError(f"DABench label {qid}: common_answers must be [[name, value], ...].")
    csv = _data_file(root, str(question.get("file_name", "")), qid)
    return Task(
        suite="dabench",
        id=qid,
        prompt=prompt_for(question),
        category=str(question.get("level", "unknown")),
        payload={
            "file": str(csv),
            "labels": {str(name): str(value) for name, value in answers},
            "concepts": list(question.get("concepts", [])),
        },
    )


def _is_pair(item: Any) -> bool:
    return isinstance(item, list | tuple) and len(item) == 2


def _data_file(root: Path, name: str, qid: str) -> Path:
    """The question's CSV, which must sit inside the benchmark folder."""
    if not name:
        raise EvalError(f"DABench question {qid} names no file_name.")
    for folder in (root / "da-dev-tables", root / "tables", root):
        candidate = (folder / name).resolve()
        if candidate.is_file() and candidate.is_relative_to(root.resolve()):
            return candidate
    raise EvalError(f"DABench question {qid}: data file {name!r} not found under {root}.")


def prompt_for(question: dict[str, Any]) -> str:
    """The question as the benchmark poses it: question, constraints, answer format, file."""
    parts = [
        f"Question: {question.get('question', '')}",
        f"Constraints: {question.get('constraints', '')}",
        f"Format: {question.get('format', '')}",
        f"The data is in the CSV file {question.get('file_name', '')!s}.",
    ]
    return "\n".join(parts)


def extract_answers(response: str) -> dict[str, str]:
    """`@name[value]` pairs; a later pair with the same name wins, as in the benchmark."""
    return dict(ANSWER_RE.findall(response or ""))


def is_equal(response: str | None, label: str) -> bool:
    if response == label:
        return True
    try:
        return abs(float(response) - float(label)) < 1e-6  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def score(task: Task, response: str) -> dict[str, bool]:
    """{sub-question name: correct?} for every label of the task."""
    extracted = extract_answers(response)
    return {
        name: is_equal(extracted.get(name), value) for name, value in task.payload["labels"].items()
    }


def accuracies(records: list[dict[str, Any]]) -> dict[str, float]:
    """The benchmark's three accuracies over answered questions (records with `correctness`)."""
    answered = [r for r in records if r.get("answered")]
    if not answered:
        return {"by_question": 0.0, "by_sub_question": 0.0, "proportional": 0.0}
    whole = sum(all(r["correctness"].values()) for r in answered)
    subs = sum(len(r["correctness"]) for r in answered)
    right = sum(sum(r["correctness"].values()) for r in answered)
    proportional = sum(
        sum(r["correctness"].values()) / len(r["correctness"]) for r in answered if r["correctness"]
    )
    return {
        "by_question": round(whole / len(answered), 4),
        "by_sub_question": round(right / subs, 4) if subs else 0.0,
        "proportional": round(proportional / len(answered), 4),
    }
