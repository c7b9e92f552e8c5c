"""Training data from finished runs: one chat example per planning call and per step.

A specialist should learn what the agent asks of it, so each example is the system and user
messages of a brain call and, as the assistant message, what worked: the plan for a planning
call, the code that ran successfully for a step (paired with the step's first request, so the
model learns to get it right the first time).

Runs record a hash of each prompt (``brain_call.prompt_hash``), not the prompt itself. When a
``brain_call`` event carries the messages (``messages``), they are used as recorded. Otherwise
the request is rebuilt from the run (goal, dataset profile, plan, earlier observations, tools,
session history) and kept only when its hash matches the recorded one: the messages of chat
brains (``prompt_hash``) or the request of the offline brain (sha256 of the request as JSON).
Calls that cannot be rebuilt exactly are counted and left out, never guessed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentforge_jupyter.brains.base import BrainRequest, Observation
from agentforge_jupyter.brains.prompts import build_messages, prompt_hash
from agentforge_jupyter.run.errors import AgentError
from agentforge_jupyter.run.records import INPUT_FRAME_FILE, Run, load_run
from agentforge_jupyter.state import StateDir
from agentforge_jupyter.training.errors import TrainingDataError

__all__ = ["DataReport", "examples_from_runs", "split_examples", "write_training_data"]


@dataclass
class DataReport:
    runs: int = 0
    examples: int = 0
    duplicates: int = 0
    unverifiable: int = 0
    train: int = 0
    eval: int = 0
    train_path: str = ""
    eval_path: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_since(text: str | None) -> float | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TrainingDataError(
            f"--since {text!r} is not a date; use YYYY-MM-DD or an ISO date-time."
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _request_hash(request: BrainRequest) -> str:
    # How the offline brain fingerprints what it was asked (it sends no chat messages).
    canonical = json.dumps(asdict(request), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _RunReader:
    """Rebuilds the requests of the runs of one state directory."""

    def __init__(self, state: StateDir) -> None:
        self.state = state
        self.runs = self._load_all()
        self._profiles: dict[str, dict[str, Any] | None] = {}

    def _load_all(self) -> list[Run]:
        runs = []
        for directory in sorted(self.state.runs_dir.iterdir()):
            if directory.is_dir():
                try:
                    runs.append(load_run(directory))
                except (AgentError, KeyError, TypeError, ValueError):
                    continue  # unfinished or unreadable: not a source of examples
        return sorted(runs, key=lambda r: r.started)

    def profile(self, run: Run) -> dict[str, Any] | None:
        if run.dataset is None:
            return None
        if run.run_id not in self._profiles:
            self._profiles[run.run_id] = self._profile(run)
        profile = self._profiles[run.run_id]
        return dict(profile) if profile is not None else None

    def _profile(self, run: Run) -> dict[str, Any] | None:
        from agentforge_jupyter.datasets import DatasetRegistry, profile_frame

        ref = run.dataset
        assert ref is not None
        try:
            if ref.name == "dataframe" and run.run_dir is not None:
                import pandas as pd

                frame = pd.read_parquet(run.run_dir / INPUT_FRAME_FILE)
                profile = profile_frame(frame.head(1000), name="dataframe", rows=len(frame))
            else:
                profile = DatasetRegistry(self.state).profile(ref.name)
        except Exception:  # the dataset is gone or changed: the prompts cannot be rebuilt
            return None
        profile["variable"] = ref.variable
        return profile

    def history(self, run: Run) -> list[dict[str, Any]]:
        if not run.session_id:
            return []
        earlier = [
            r
            for r in self.runs
            if r.session_id == run.session_id and r.started < run.started and r.plan is not None
        ]
        return [
            {
                "run_id": r.run_id,
                "goal": r.goal,
                "plan": r.plan.to_dict() if r.plan else None,
                "observations": [o.to_dict() for o in r.observations],
            }
            for r in earlier
        ]


def _tools(run: Run) -> list[dict[str, Any]]:
    for event in run.events:
        if event.type == "tools":
            return list(event.get("tools") or [])
    return []


def _call(run: Run, task: str, step: str | None) -> dict[str, Any] | None:
    for event in run.events:
        if (
            event.type == "brain_call"
            and event.get("task") == task
            and event.get("step") == step
            and int(event.get("attempt") or 0) == 0
        ):
            return event.to_dict()
    return None


def _verified(call: dict[str, Any] | None, request: BrainRequest) -> list[dict[str, str]] | None:
    if call is None:
        return None
    recorded = call.get("messages")
    if isinstance(recorded, list) and recorded:
        return [{"role": m["role"], "content": m["content"]} for m in recorded]
    messages = build_messages(request)
    wanted = call.get("prompt_hash")
    if wanted and wanted in (prompt_hash(messages), _request_hash(request)):
        return messages
    return None


def _run_examples(reader: _RunReader, run: Run, report: DataReport) -> list[dict[str, Any]]:
    base: dict[str, Any] = {
        "goal": run.goal,
        "dataset": reader.profile(run),
        "tools": _tools(run),
        "history": reader.history(run),
    }
    found: list[dict[str, Any]] = []
    if run.plan is not None:
        request = BrainRequest(task="plan", **base)
        messages = _verified(_call(run, "plan", None), request)
        answer = json.dumps(run.plan.to_dict(), indent=2, ensure_ascii=False)
        _add(found, report, messages, answer, {"run_id": run.run_id, "task": "plan"})
    observations: list[Observation] = []
    for record in run.steps:
        request = BrainRequest(
            task="code", plan=run.plan, step=record.step, observations=list(observations), **base
        )
        if record.status == "ok" and record.attempts and record.attempts[-1].ok:
            messages = _verified(_call(run, "code", record.step.id), request)
            meta = {"run_id": run.run_id, "task": "code", "step": record.step.id}
            _add(found, report, messages, record.attempts[-1].code, meta)
        if record.observation is not None:
            observations.append(record.observation)
    return found


def _add(
    found: list[dict[str, Any]],
    report: DataReport,
    messages: list[dict[str, str]] | None,
    answer: str,
    meta: dict[str, Any],
) -> None:
    if messages is None or not answer.strip():
        report.unverifiable += 1
        return
    found.append(
        {"messages": [*messages, {"role": "assistant", "content": answer}], "metadata": meta}
    )


def examples_from_runs(
    state: StateDir | None = None,
    *,
    status: str | None = "ok",
    brain: str | None = None,
    since: str | None = None,
) -> tuple[list[dict[str, Any]], DataReport]:
    """Deduplicated examples from the runs that match, and what was found."""
    reader = _RunReader(state or StateDir())
    cutoff = parse_since(since)
    report = DataReport()
    seen: set[str] = set()
    examples: list[dict[str, Any]] = []
    for run in reader.runs:
        if status and run.status != status:
            continue
        if brain and run.brain != brain:
            continue
        if cutoff is not None and run.started < cutoff:
            continue
        report.runs += 1
        for example in _run_examples(reader, run, report):
            key = prompt_hash(example["messages"])
            if key in seen:
                report.duplicates += 1
                continue
            seen.add(key)
            examples.append(example)
    report.examples = len(examples)
    return examples, report


def split_examples(
    examples: list[dict[str, Any]], eval_fraction: float, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A held-out split that depends only on the examples' content and the seed."""
    if not 0 <= eval_fraction < 1:
        raise TrainingDataError(f"--eval-fraction must be in [0, 1), not {eval_fraction}.")

    def rank(example: dict[str, Any]) -> str:
        return hashlib.sha256(f"{seed}:{prompt_hash(example['messages'])}".encode()).hexdigest()

    ordered = sorted(examples, key=rank)
    count = round(len(ordered) * eval_fraction)
    if eval_fraction > 0 and len(ordered) >= 2:
        count = max(1, count)
    held = {id(e) for e in ordered[:count]}
    return [e for e in examples if id(e) not in held], [e for e in examples if id(e) in held]


def eval_path_for(out: Path) -> Path:
    stem = out.name[: -len(".jsonl")] if out.name.endswith(".jsonl") else out.name
    return out.with_name(f"{stem}.eval.jsonl")


def write_training_data(
    out: str | Path,
    *,
    state: StateDir | None = None,
    status: str | None = "ok",
    brain: str | None = None,
    since: str | None = None,
    eval_fraction: float = 0.1,
    seed: int = 0,
) -> DataReport:
    """Write ``out`` (training examples) and ``<out>.eval.jsonl`` (held out)."""
    examples, report = examples_from_runs(state, status=status, brain=brain, since=since)
    if not examples:
        raise TrainingDataError(
            f"No training examples: {report.runs} matching run(s), {report.unverifiable} "
            "brain call(s) whose prompts could not be rebuilt exactly. Accept some runs "
            "(status ok) first, or widen --status/--brain/--since."
        )
    train, held = split_examples(examples, eval_fraction, seed)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_jsonl(path, train)
    report.train, report.eval, report.train_path = len(train), len(held), str(path)
    if held:
        report.eval_path = str(eval_path_for(path))
        _write_jsonl(Path(report.eval_path), held)
    if report.unverifiable:
        report.notes.append(
            f"{report.unverifiable} brain call(s) left out: their prompts were not recorded "
            "and could not be rebuilt exactly (the dataset or session changed since)."
        )
    return report


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")
