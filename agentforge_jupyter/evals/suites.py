"""`ds1000:PATH` and `dabench:DIR`: loading a suite and choosing its tasks."""

from __future__ import annotations

import random

from .dabench import load_dabench
from .ds1000 import load_ds1000
from .tasks import EvalError, Task

SUITES = ("ds1000", "dabench")


def load_suite(suite: str) -> list[Task]:
    kind, sep, location = suite.partition(":")
    if not sep or not location:
        raise EvalError(f"suite {suite!r}: write ds1000:PATH or dabench:DIR.")
    if kind == "ds1000":
        return load_ds1000(location)
    if kind == "dabench":
        return load_dabench(location)
    raise EvalError(f"unknown suite {kind!r}: use one of {', '.join(SUITES)}.")


def select(
    tasks: list[Task],
    *,
    library: str | None = None,
    level: str | None = None,
    limit: int | None = None,
    seed: int | None = None,
) -> list[Task]:
    """Filter by category (library for DS-1000, level for DABench), then take `limit` tasks:
    the first ones, or a random sample drawn with `seed` when one is given."""
    wanted = (library or level or "").lower()
    chosen = [t for t in tasks if not wanted or t.category.lower() == wanted]
    if not chosen:
        categories = ", ".join(sorted({t.category for t in tasks}))
        raise EvalError(f"no task in category {wanted!r}; the suite has: {categories}.")
    if limit is not None:
        if limit <= 0:
            raise EvalError(f"--limit must be positive, not {limit}.")
        if seed is not None and limit < len(chosen):
            chosen = sorted(random.Random(seed).sample(chosen, limit), key=tasks.index)
        else:
            chosen = chosen[:limit]
    return chosen
