"""Where an answer comes from: a replay file, one completion, or the whole agent loop.

* `replay:PATH.jsonl` re-scores published answers: one line per task, `{"id", "code"}` (a string
  or a list whose first item is used, as DS-1000 releases them) or `{"id", "response"}` (DABench).
* `--mode completion` asks a brain once with the benchmark's own prompt. A brain with a
  `complete(messages)` method (the OpenAI-compatible brain) gets the prompt as a single user
  message; any other brain gets it as a code request.
* `--mode agent` runs AgentForge's loop (plan, steps, lint, repair, tools); the answer is the
  code of the steps that ran (DS-1000) or the run's insights (DABench, where the model must write
  the `@name[value]` pairs).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .tasks import EvalError, Task, read_id_records

Mode = Literal["completion", "agent"]
REPLAY_PREFIX = "replay:"


@dataclass
class Answer:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    # An answer the brain could not give (transport failure): scored as a failure of this kind.
    error_class: str = ""


class ReplayBrain:
    """Answers read from a file; a task missing from it gets an empty answer (a failure)."""

    kind = "replay"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.name = f"{REPLAY_PREFIX}{self.path.name}"
        self.model = str(self.path)
        self.answers = _read_replay(self.path)

    def answer(self, task: Task) -> Answer:
        return Answer(text=self.answers.get(task.id, ""))


def _read_replay(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise EvalError(f"replay file {str(path)!r} not found.")
    answers: dict[str, str] = {}
    for number, record in read_id_records(path):
        answers[str(record["id"])] = _answer_text(record, path, number)
    return answers


def _answer_text(record: dict[str, Any], path: Path, number: int) -> str:
    value = record.get("code", record.get("response"))
    if isinstance(value, list):
        value = value[0] if value else ""
    if not isinstance(value, str):
        raise EvalError(f"{path} line {number}: 'code' or 'response' must be text.")
    return value


def is_replay(name: str) -> bool:
    return name.startswith(REPLAY_PREFIX)


async def complete(brain: Any, task: Task) -> Answer:
    """One prompt, one answer (the benchmark's own protocol)."""
    if isinstance(brain, ReplayBrain):
        return brain.answer(task)
    started = time.perf_counter()
    if hasattr(brain, "complete"):
        reply = await brain.complete([{"role": "user", "content": task.prompt}])
    else:
        from ..brains.base import BrainRequest, PlanStep

        step = PlanStep(id="answer", title="Answer the problem as stated")
        reply = await brain.ask(BrainRequest(task="code", goal=task.prompt, step=step))
    return Answer(
        text=reply.text,
        prompt_tokens=reply.prompt_tokens,
        completion_tokens=reply.completion_tokens,
        seconds=time.perf_counter() - started,
    )


def agent_answer(brain: Any, task: Task, *, state: Any, timeout: float) -> Answer:
    """The whole AgentForge loop on the task (blocking; run it in a worker thread)."""
    import pandas as pd

    from ..agent import Agent

    dataset = pd.read_csv(task.payload["file"]) if task.suite == "dabench" else None
    started = time.perf_counter()
    with Agent(brain=brain, dataset=dataset, state=state, step_timeout=timeout) as agent:
        run = agent.run(task.prompt)
    if task.suite == "dabench":
        text = "\n".join(run.insights)
    else:
        text = "\n".join(
            step.code for step in run.steps if step.code and step.result and step.result.ok
        )
    return Answer(text=text, prompt_tokens=run.tokens, seconds=time.perf_counter() - started)
