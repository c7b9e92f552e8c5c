"""Typed brain errors. Messages say what failed and what to do; the agent shows them as-is."""

from __future__ import annotations

from agentforge_jupyter.errors import AgentForgeError

__all__ = [
    "BrainConfigError",
    "BrainConnectionError",
    "BrainError",
    "BrainHTTPError",
    "BrainReplyError",
    "BrainTimeoutError",
    "CodeParseError",
    "DuplicateBrainError",
    "PlanParseError",
    "ReplyTooLongError",
    "UnknownBrainError",
]


class BrainError(AgentForgeError):
    """A brain could not answer (transport, configuration, or an unusable reply)."""


class BrainConfigError(BrainError):
    """A brain is misconfigured: a missing API key variable, a bad URL or spec."""


class UnknownBrainError(BrainConfigError):
    """No brain of that name is registered."""


class DuplicateBrainError(BrainConfigError):
    """A brain of that name is already registered."""


class BrainConnectionError(BrainError):
    """The endpoint could not be reached, or the connection broke mid-reply."""


class BrainTimeoutError(BrainError):
    """The endpoint did not answer within the brain's timeout (after its retries)."""


class BrainHTTPError(BrainError):
    """The endpoint answered with an HTTP error status (after its retries)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class BrainReplyError(BrainError):
    """The endpoint answered, but the reply cannot be used (empty, malformed, truncated)."""


class PlanParseError(BrainReplyError):
    """A plan reply is not a JSON object matching the plan schema.

    The message is written for the model: the agent sends it back once to ask for a fixed plan.
    `problem` is the short reason alone ("no JSON object was found in the reply"), for users.
    """

    def __init__(self, message: str, problem: str = "") -> None:
        super().__init__(message)
        self.problem = problem or message


class ReplyTooLongError(BrainReplyError):
    """A reply passed the brain's size cap (a server that ignores max_tokens); it was cut off
    and dropped. Like any unusable reply it goes back to the model (plan retry, repair)."""


class CodeParseError(BrainReplyError):
    """A code reply holds no Python code."""
