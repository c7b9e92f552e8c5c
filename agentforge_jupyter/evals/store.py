"""Evaluations on disk: `state/evals/<id>/` holds `spec.json`, `results.jsonl`, `summary.json`.

Records are appended as tasks finish, so an interrupted evaluation resumes (`--resume ID`)
without re-running what is done; a partial last line left by a crash is skipped on reading.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..state import StateDir, append_jsonl, atomic_write_bytes, read_jsonl
from .tasks import EvalError, TaskRecord

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


@dataclass
class EvalSpec:
    suite: str
    brains: list[str]
    mode: str = "completion"
    limit: int | None = None
    library: str | None = None
    level: str | None = None
    seed: int | None = None
    workers: int = 1
    timeout: float = 120.0
    created: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvalSpec:
        try:
            return cls(
                suite=str(data["suite"]),
                brains=[str(b) for b in data["brains"]],
                mode=str(data.get("mode", "completion")),
                limit=None if data.get("limit") is None else int(data["limit"]),
                library=data.get("library"),
                level=data.get("level"),
                seed=None if data.get("seed") is None else int(data["seed"]),
                workers=int(data.get("workers", 1)),
                timeout=float(data.get("timeout", 120.0)),
                created=float(data.get("created", 0.0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EvalError(f"spec.json is malformed ({exc}).") from exc


class EvalStore:
    """One evaluation's folder."""

    def __init__(self, state: StateDir, eval_id: str) -> None:
        if not _ID_RE.match(eval_id):
            raise EvalError(f"invalid evaluation id {eval_id!r}.")
        self.id = eval_id
        self.dir = evals_dir(state) / eval_id

    @classmethod
    def create(cls, state: StateDir, spec: EvalSpec) -> EvalStore:
        eval_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)
        store = cls(state, eval_id)
        store.dir.mkdir(mode=0o700, parents=True)
        store.write_json("spec.json", spec.to_dict())
        return store

    @classmethod
    def open(cls, state: StateDir, eval_id: str) -> EvalStore:
        store = cls(state, eval_id)
        if not (store.dir / "spec.json").is_file():
            known = ", ".join(list_ids(state)[-5:]) or "none"
            raise EvalError(
                f"no evaluation {eval_id!r} (recent: {known}); see `agentforge eval list`."
            )
        return store

    @property
    def results_path(self) -> Path:
        return self.dir / "results.jsonl"

    def spec(self) -> EvalSpec:
        return EvalSpec.from_dict(self.read_json("spec.json"))

    def append(self, record: TaskRecord) -> None:
        append_jsonl(self.results_path, record.to_dict())

    def records(self) -> list[TaskRecord]:
        return [TaskRecord.from_dict(item) for item in read_jsonl(self.results_path)]

    def done(self) -> set[tuple[str, str]]:
        return {(r.brain, r.task_id) for r in self.records()}

    def write_json(self, name: str, data: Any) -> None:
        text = json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"
        atomic_write_bytes(self.dir / name, text.encode("utf-8"))

    def read_json(self, name: str) -> Any:
        path = self.dir / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise EvalError(f"cannot read {path}: {exc}") from exc


def evals_dir(state: StateDir) -> Path:
    return state.evals_dir  # created private; a linked directory is refused


def list_ids(state: StateDir) -> list[str]:
    return sorted(p.name for p in evals_dir(state).iterdir() if (p / "spec.json").is_file())
