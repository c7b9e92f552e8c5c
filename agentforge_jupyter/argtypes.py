"""Argument types shared by the CLI and the magics, so `-n -5`, `--workers 0` or
`--timeout 0` get the same clear refusal from `agentforge ...` as from `%agent_...`.

Each is an argparse `type=`: it returns the value or raises `ArgumentTypeError`, which argparse
(and IPython's `magic_arguments`) turn into a usage message naming the option."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

Number = TypeVar("Number", int, float)


def _bounded(
    convert: Callable[[str], Number], expected: str, accept: Callable[[Number], bool], rule: str
) -> Callable[[str], Number]:
    def parse(text: str) -> Number:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, not {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {rule}, not {text}")
        return value

    return parse


#: A whole number of at least 1 (rows, steps, workers, ranks, batch sizes).
positive_int = _bounded(int, "a whole number", lambda v: v >= 1, "1 or more")
#: A whole number of at least 0 (repair attempts, seeds).
non_negative_int = _bounded(int, "a whole number", lambda v: v >= 0, "0 or more")
#: A number above 0 (seconds, learning rates, epochs); NaN and infinity are refused.
positive_float = _bounded(float, "a number", lambda v: 0 < v < float("inf"), "more than 0")
#: A fraction from 0 up to (not including) 1 (dropout, evaluation split).
fraction = _bounded(float, "a number", lambda v: 0 <= v < 1, "at least 0 and below 1")
#: A number of at least 0 (a sampling temperature).
non_negative_float = _bounded(float, "a number", lambda v: 0 <= v < float("inf"), "0 or more")
