"""The statistics behind "brain A is better than brain B"."""

from __future__ import annotations

import math

import pytest

from agentforge_jupyter.evals.stats import compare, mcnemar_exact, paired_bootstrap


def test_mcnemar_matches_the_binomial_test() -> None:
    # 5 discordant pairs all one way: p = 2 * 0.5**5.
    assert mcnemar_exact(5, 0) == pytest.approx(0.0625)
    assert mcnemar_exact(0, 0) == 1.0
    # Symmetric discordance is no evidence at all.
    assert mcnemar_exact(7, 7) == 1.0
    # 10 against 2: 2 * sum(C(12, i), i <= 2) / 2**12.
    expected = 2 * sum(math.comb(12, i) for i in range(3)) / 2**12
    assert mcnemar_exact(10, 2) == pytest.approx(expected)


def test_bootstrap_interval_of_identical_brains_is_zero() -> None:
    same = [1, 0, 1, 1, 0] * 10
    assert paired_bootstrap(same, same) == (0.0, 0.0)


def test_bootstrap_interval_covers_the_observed_difference_and_is_seeded() -> None:
    a = [1] * 30 + [0] * 10
    b = [1] * 20 + [0] * 20
    low, high = paired_bootstrap(a, b, seed=3)
    assert low <= 0.25 <= high
    assert low > 0  # a clear difference: the interval excludes zero
    assert paired_bootstrap(a, b, seed=3) == (low, high)


def test_compare_pairs_by_task_and_ignores_unshared_tasks() -> None:
    a = {"1": True, "2": True, "3": False, "only-a": True}
    b = {"1": True, "2": False, "3": False, "only-b": False}
    result = compare("A", a, "B", b)
    assert result.tasks == 3
    assert (result.only_a, result.only_b) == (1, 0)
    assert result.difference == pytest.approx(1 / 3)
    assert result.p_value == pytest.approx(1.0)  # one discordant pair proves nothing
