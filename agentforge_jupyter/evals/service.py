"""The evaluation service the CLI and the notebook call: set up, run or resume, summarise."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .._loop import run_sync
from ..state import StateDir
from .answers import ReplayBrain, is_replay
from .runner import OnRecord, evaluate
from .store import EvalSpec, EvalStore
from .suites import load_suite, select
from .summary import summarize
from .tasks import EvalError, Task

MODES = ("completion", "agent")


@dataclass
class EvalResult:
    id: str
    spec: EvalSpec
    summary: dict[str, Any]
    store: EvalStore


def brains_for(
    names: list[str], state: StateDir, given: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Brains by name: `replay:PATH` files, brain objects passed in, or registered brains."""
    if not names:
        raise EvalError("name at least one --brain (a registered brain or replay:PATH.jsonl).")
    if len(set(names)) != len(names):
        raise EvalError("each --brain may be named once.")
    brains: dict[str, Any] = {}
    registry = None
    for name in names:
        if given and name in given:
            brains[name] = given[name]
            continue
        if is_replay(name):
            brains[name] = ReplayBrain(name.removeprefix("replay:"))
            continue
        if registry is None:
            from ..brains.registry import BrainRegistry

            registry = BrainRegistry(state)
        brains[name] = registry.get(name)
    return brains


def run_eval(
    suite: str,
    brains: list[Any],
    *,
    mode: str = "completion",
    limit: int | None = None,
    library: str | None = None,
    level: str | None = None,
    seed: int | None = None,
    workers: int | None = None,
    timeout: float = 120.0,
    resume: str | None = None,
    state: StateDir | None = None,
    on_record: OnRecord | None = None,
    sandbox_settings: dict[str, Any] | None = None,
) -> EvalResult:
    """Run (or resume) an evaluation and return its summary. Blocking.

    `brains` are names (registered brains or `replay:PATH`) or Brain objects (named by their
    `name`); resuming an evaluation of Brain objects needs the same objects passed again.
    """
    state = state or StateDir()
    given = {b.name: b for b in brains if not isinstance(b, str)}
    brains = [b if isinstance(b, str) else b.name for b in brains]
    if resume:
        store = EvalStore.open(state, resume)
        spec = store.spec()
    else:
        spec = _new_spec(suite, brains, mode, limit, library, level, seed, workers, timeout)
    tasks = _tasks(spec)
    resolved = brains_for(spec.brains, state, given)
    if not resume:
        store = EvalStore.create(state, spec)
    coroutine = evaluate(
        store, tasks, resolved, on_record=on_record, sandbox_settings=sandbox_settings
    )
    # AgentForge's background loop, so that this also works inside a running kernel.
    records = run_sync(coroutine)
    summary = summarize(records, spec.brains, seed=spec.seed or 0)
    store.write_json("summary.json", summary)
    return EvalResult(id=store.id, spec=spec, summary=summary, store=store)


#: The `run_eval` options that `agentforge eval` and `%agent_eval` both take, by the names their
#: parsers store them under.
SHARED_OPTIONS = ("mode", "limit", "library", "level", "seed", "workers", "timeout", "resume")


def options_from(args: object) -> dict[str, Any]:
    """`run_eval` keyword arguments from a front end's parsed arguments."""
    return {name: getattr(args, name) for name in SHARED_OPTIONS}


def _new_spec(
    suite: str,
    brains: list[str],
    mode: str,
    limit: int | None,
    library: str | None,
    level: str | None,
    seed: int | None,
    workers: int | None,
    timeout: float,
) -> EvalSpec:
    if mode not in MODES:
        raise EvalError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}.")
    if timeout <= 0:
        raise EvalError(f"--timeout must be positive, not {timeout}.")
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 1:
        raise EvalError(f"--workers must be at least 1, not {count}.")
    return EvalSpec(
        suite=suite,
        brains=list(brains),
        mode=mode,
        limit=limit,
        library=library,
        level=level,
        seed=seed,
        workers=count,
        timeout=timeout,
    )


def _tasks(spec: EvalSpec) -> list[Task]:
    # The same selection on every resume: the spec holds everything it depends on.
    return select(
        load_suite(spec.suite),
        library=spec.library,
        level=spec.level,
        limit=spec.limit,
        seed=spec.seed,
    )


def show_eval(eval_id: str, state: StateDir | None = None) -> EvalResult:
    store = EvalStore.open(state or StateDir(), eval_id)
    spec = store.spec()
    summary = summarize(store.records(), spec.brains, seed=spec.seed or 0)
    return EvalResult(id=eval_id, spec=spec, summary=summary, store=store)
