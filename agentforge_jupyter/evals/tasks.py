"""What an evaluation is made of: tasks from a suite, and the record of one attempt at one."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AgentForgeError


class EvalError(AgentForgeError):
    """An evaluation could not be set up or read (bad suite, unknown brain, corrupt record)."""


@dataclass(frozen=True)
class Task:
    """One benchmark problem. `category` is what results are broken down by (library, level)."""

    suite: str  # "ds1000" or "dabench"
    id: str
    prompt: str
    category: str
    payload: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class TaskRecord:
    """One brain's attempt at one task, as stored in `results.jsonl`."""

    task_id: str
    brain: str
    category: str
    passed: bool
    error_class: str = ""
    duration_s: float = 0.0
    # Of which: time inside the sandbox kernel scoring the answer.
    sandbox_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    answer: str = ""
    # DABench: {sub-question name: correct?}; empty for DS-1000.
    correctness: dict[str, bool] = field(default_factory=dict)
    answered: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskRecord:
        if not isinstance(data, dict):
            raise EvalError(f"an evaluation record is not an object: {data!r:.80}")
        try:
            return cls(
                task_id=str(data["task_id"]),
                brain=str(data["brain"]),
                category=str(data.get("category", "")),
                passed=bool(data["passed"]),
                error_class=str(data.get("error_class", "")),
                duration_s=float(data.get("duration_s", 0.0)),
                sandbox_s=float(data.get("sandbox_s", 0.0)),
                prompt_tokens=int(data.get("prompt_tokens", 0)),
                completion_tokens=int(data.get("completion_tokens", 0)),
                answer=str(data.get("answer", "")),
                correctness={str(k): bool(v) for k, v in dict(data.get("correctness", {})).items()},
                answered=bool(data.get("answered", True)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EvalError(f"an evaluation record is malformed ({exc}): {data!r:.120}") from exc


def read_id_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file of objects with an `id`;
    an error names the line."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{path} line {number}: not JSON ({exc.msg}).") from exc
        if not isinstance(record, dict) or "id" not in record:
            raise EvalError(f"{path} line {number}: expected an object with an 'id'.")
        records.append((number, record))
    return records
