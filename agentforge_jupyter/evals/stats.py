"""Is brain A better than brain B on these tasks? A paired bootstrap and McNemar's exact test."""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Comparison:
    """A minus B over the tasks both attempted: difference in pass rate, its 95% CI, p-value."""

    brain_a: str
    brain_b: str
    tasks: int
    rate_a: float
    rate_b: float
    difference: float
    ci_low: float
    ci_high: float
    only_a: int  # tasks A passed and B failed
    only_b: int
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(
    name_a: str,
    passed_a: dict[str, bool],
    name_b: str,
    passed_b: dict[str, bool],
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    common = sorted(set(passed_a) & set(passed_b))
    a = [int(passed_a[t]) for t in common]
    b = [int(passed_b[t]) for t in common]
    n = len(common)
    low, high = paired_bootstrap(a, b, resamples=resamples, seed=seed)
    only_a = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    only_b = sum(1 for x, y in zip(a, b, strict=True) if y and not x)
    return Comparison(
        brain_a=name_a,
        brain_b=name_b,
        tasks=n,
        rate_a=sum(a) / n if n else 0.0,
        rate_b=sum(b) / n if n else 0.0,
        difference=(sum(a) - sum(b)) / n if n else 0.0,
        ci_low=low,
        ci_high=high,
        only_a=only_a,
        only_b=only_b,
        p_value=mcnemar_exact(only_a, only_b),
    )


def paired_bootstrap(
    a: list[int], b: list[int], *, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval of mean(a - b), resampling tasks (pairs stay together)."""
    n = len(a)
    if n == 0:
        return (0.0, 0.0)
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    rng = random.Random(seed)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    return (_percentile(means, 0.025), _percentile(means, 0.975))


def _percentile(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test on the discordant pairs."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)
