"""Per-run budgets and the one rule for a step count (used by the CLI and the magic too)."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from typing import Any

from .errors import AgentError

__all__ = ["DEFAULT_MAX_STEPS", "InvalidSteps", "RunLimits", "validate_steps"]

#: Most plan steps a run executes unless the caller says otherwise (CLI, magic, Python API).
DEFAULT_MAX_STEPS = 8


class InvalidSteps(AgentError, argparse.ArgumentTypeError):
    """A step count that is not a positive whole number. Also an ArgumentTypeError, so
    `validate_steps` can be an argparse / magic_arguments `type=` and its message is shown."""


def validate_steps(value: object) -> int:
    """`value` (an int or its text) as a positive step count; raises InvalidSteps otherwise."""
    text = str(value).strip()
    try:
        steps = int(text) if not isinstance(value, bool) else -1
    except ValueError:
        steps = -1
    if steps <= 0:
        raise InvalidSteps(
            f"the number of steps must be a positive whole number (1, 2, ...), not {text!r}"
        )
    return steps


@dataclass
class RunLimits:
    """Per-run budgets. `max_steps` is the user's cap: a run that stops there is "ok" and says
    how many of the planned steps ran. Reaching any other budget ends the run with status
    "limit" and says which."""

    max_steps: int = DEFAULT_MAX_STEPS
    max_brain_calls: int = 60
    max_tokens: int = 400_000
    max_wall_s: float = 1800.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value is None or isinstance(value, bool) or value <= 0:
                raise AgentError(f"RunLimits.{name} must be positive, not {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
