"""The earlier runs of a run's session, for its export.

Consecutive runs of one session share a sandbox kernel: a follow-up ("now split that by
product") uses what the runs before it left there (`totals`, a cleaned `df`). Its notebook re-runs
without that kernel, so it first re-runs their successful steps. They are found in the state's
`runs/` by `session_id` (ids sort by time, so only the directories named between the session's
start and this run are read); runs on another dataset are left out, since their code ran against
other data than this notebook loads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..agent import AgentError, Run, load_run

__all__ = ["EarlierRuns", "earlier_runs"]

_STAMP = len("YYYYMMDD-HHMMSS")  # the time part of run and session ids


@dataclass
class EarlierRuns:
    """The earlier runs to re-run (oldest first), and how many were left out (other data)."""

    runs: list[Run] = field(default_factory=list)
    other_data: int = 0


def earlier_runs(run: Run) -> EarlierRuns:
    """The runs of `run`'s session that ended before it started, on the same dataset."""
    found = EarlierRuns()
    root = _state_root(run)
    if not run.session_id or root is None or run.started <= 0:
        return found
    runs_dir = root / "runs"
    try:
        names = sorted(os.listdir(runs_dir))
    except OSError:
        return found
    low, high = run.session_id[:_STAMP], run.run_id[:_STAMP]
    candidates = [n for n in names if low <= n[:_STAMP] <= high and n != run.run_id]
    for name in candidates:
        other = _load(runs_dir / name, root)
        if other is None or other.session_id != run.session_id:
            continue
        if not 0 < other.started < run.started:
            continue
        if _same_data(other, run):
            found.runs.append(other)
        else:
            found.other_data += 1
    found.runs.sort(key=lambda r: r.started)
    return found


def _state_root(run: Run) -> Path | None:
    if run.state_root is not None:
        return Path(run.state_root)
    return Path(run.run_dir).parents[1] if run.run_dir is not None else None


def _load(directory: Path, root: Path) -> Run | None:
    try:
        return load_run(directory, state_root=root)
    except (AgentError, OSError, ValueError, KeyError, TypeError):
        return None  # unfinished or unreadable: nothing of it can be re-run


def _same_data(other: Run, run: Run) -> bool:
    if other.dataset is None or run.dataset is None:
        return other.dataset is run.dataset
    a, b = other.dataset, run.dataset
    return (a.name, a.variable, a.sha256) == (b.name, b.variable, b.sha256)
