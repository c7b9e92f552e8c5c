"""Run an evaluation: every (brain, task) pair once, in parallel sandboxes, resumable.

Each worker owns one sandbox kernel and scores its tasks there one after another, each in a
forked child with its own time limit. A crash, a timeout or a brain failure is a failed task,
never a failed evaluation; the kernel is replaced by the sandbox's own watchdog when it dies.
"""

from __future__ import annotations

import ast
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..brains.errors import BrainError
from . import dabench, ds1000
from .answers import Answer, ReplayBrain, agent_answer, complete
from .store import EvalStore
from .tasks import Task, TaskRecord

# Time the kernel may take beyond the task's own limit (fork, imports, reporting).
SANDBOX_SLACK_S = 30.0

OnRecord = Callable[[TaskRecord, int, int], None]


@dataclass
class Job:
    brain_name: str
    brain: Any
    task: Task


async def evaluate(
    store: EvalStore,
    tasks: list[Task],
    brains: dict[str, Any],
    *,
    on_record: OnRecord | None = None,
    sandbox_settings: dict[str, Any] | None = None,
) -> list[TaskRecord]:
    """Attempt every pair not already in the store; returns all records (old and new)."""
    spec = store.spec()
    done = store.done()
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for name, brain in brains.items():
        for task in tasks:
            if (name, task.id) not in done:
                queue.put_nowait(Job(name, brain, task))
    total = len(brains) * len(tasks)
    progress = {"count": len(done)}

    def record_done(record: TaskRecord) -> None:
        store.append(record)
        progress["count"] += 1
        if on_record is not None:
            on_record(record, progress["count"], total)

    workers = max(1, min(spec.workers, queue.qsize() or 1))
    settings = dict(sandbox_settings or {})
    await asyncio.gather(*(_worker(queue, store, settings, record_done) for _ in range(workers)))
    return store.records()


async def _worker(
    queue: asyncio.Queue[Job],
    store: EvalStore,
    settings: dict[str, Any],
    record_done: Callable[[TaskRecord], None],
) -> None:
    spec = store.spec()
    scorer = Scorer(spec.timeout, settings)
    try:
        while not queue.empty():
            job = queue.get_nowait()
            record_done(await _attempt(job, spec.mode, scorer, store))
    finally:
        await scorer.close()


async def _attempt(job: Job, mode: str, scorer: Scorer, store: EvalStore) -> TaskRecord:
    started = time.perf_counter()
    answer = await _answer(job, mode, scorer.timeout, store)
    record = TaskRecord(
        task_id=job.task.id,
        brain=job.brain_name,
        category=job.task.category,
        passed=False,
        error_class=answer.error_class,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        answer=answer.text,
        answered=bool(answer.text.strip()),
    )
    if not answer.error_class:
        await scorer.score(job.task, answer.text, record)
    record.duration_s = round(time.perf_counter() - started, 3)
    return record


async def _answer(job: Job, mode: str, timeout: float, store: EvalStore) -> Answer:
    try:
        if mode == "agent" and not isinstance(job.brain, ReplayBrain):
            from ..state import StateDir

            state = StateDir(store.dir.parent.parent)
            return await asyncio.to_thread(
                agent_answer, job.brain, job.task, state=state, timeout=timeout
            )
        return await complete(job.brain, job.task)
    except BrainError as exc:
        return Answer(text="", error_class=f"brain:{type(exc).__name__}")


class Scorer:
    """Scores answers; DS-1000 answers run in this worker's own sandbox kernel."""

    def __init__(self, timeout: float, settings: dict[str, Any]) -> None:
        self.timeout = timeout
        self.settings = settings
        self._sandbox: Any = None

    async def score(self, task: Task, text: str, record: TaskRecord) -> None:
        if task.suite == "dabench":
            record.correctness = dabench.score(task, text)
            record.passed = record.answered and all(record.correctness.values())
            return
        started = time.perf_counter()
        verdict = await self._run_ds1000(task, ds1000.postprocess(text) if text else "")
        record.sandbox_s = round(time.perf_counter() - started, 4)
        record.passed = verdict == ""
        record.error_class = verdict

    async def _run_ds1000(self, task: Task, answer: str) -> str:
        sandbox = await self._ensure_sandbox()
        code = ds1000.task_code(task, answer, int(self.timeout))
        result = await sandbox.execute(code, timeout=self.timeout + SANDBOX_SLACK_S)
        if result.status != "ok":
            return f"sandbox:{result.status}"
        try:
            return str(ast.literal_eval(result.stdout.strip().splitlines()[-1]))
        except (ValueError, SyntaxError, IndexError):
            return "sandbox:unreadable-verdict"

    async def _ensure_sandbox(self) -> Any:
        if self._sandbox is None:
            from ..sandbox.kernel import KernelSandbox

            self._sandbox = KernelSandbox(**self.settings)
            await self._sandbox.start()
        return self._sandbox

    async def close(self) -> None:
        if self._sandbox is not None:
            await self._sandbox.shutdown()
            self._sandbox = None
