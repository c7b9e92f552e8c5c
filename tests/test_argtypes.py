"""The argument types shared by the CLI and the magics: the same refusal from both."""

from __future__ import annotations

import argparse
import math

import pytest

from agentforge_jupyter.argtypes import (
    fraction,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)

from .cli_support import agentforge


@pytest.mark.parametrize(
    ("parse", "good", "bad"),
    [
        (positive_int, {"1": 1, "12": 12}, ["0", "-5", "1.5", "x", ""]),
        (non_negative_int, {"0": 0, "3": 3}, ["-1", "2.0", "two"]),
        (positive_float, {"0.5": 0.5, "60": 60.0, "2e-4": 2e-4}, ["0", "-1", "nan", "inf", "s"]),
        (non_negative_float, {"0": 0.0, "0.2": 0.2}, ["-0.1", "nan", "inf"]),
        (fraction, {"0": 0.0, "0.1": 0.1, "0.99": 0.99}, ["1", "1.5", "-0.1", "nan"]),
    ],
)
def test_values_in_range_pass_and_others_are_refused(parse, good, bad) -> None:
    for text, value in good.items():
        assert parse(text) == value
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError) as refused:
            parse(text)
        message = str(refused.value)
        assert message.startswith(("expected a", "must be")) and repr(text)[1:-1] in message


def test_nan_is_not_a_positive_number() -> None:
    # NaN compares false with everything: a plain `value > 0` check would let it through.
    with pytest.raises(argparse.ArgumentTypeError):
        positive_float(str(math.nan))


@pytest.mark.parametrize(
    ("args", "option", "rule"),
    [
        (["datasets", "preview", "sales_q3", "-n", "-5"], "-n", "must be 1 or more"),
        (["tools", "search", "revenue", "-k", "0"], "-k", "must be 1 or more"),
        (["analyze", "revenue", "--repairs", "-1"], "--repairs", "must be 0 or more"),
        (["analyze", "revenue", "--timeout", "0"], "--timeout", "must be more than 0"),
        (["eval", "ds1000", "--workers", "0"], "--workers", "must be 1 or more"),
        (
            ["train", "start", "--base-model", "m", "--data", "d.jsonl", "--dropout", "1.5"],
            "--dropout",
            "at least 0 and below 1",
        ),
    ],
)
def test_the_cli_refuses_out_of_range_options_before_doing_anything(
    args: list[str], option: str, rule: str, tmp_path
) -> None:
    result = agentforge(*args, state=tmp_path / "state")
    assert result.returncode == 2, result.stderr
    assert option in result.stderr and rule in result.stderr
    assert not (tmp_path / "state").exists()  # refused before anything was created
