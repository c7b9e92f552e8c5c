"""The run layer's errors: one for callers who used the agent wrongly, two for control flow."""

from __future__ import annotations

from ..errors import AgentForgeError

__all__ = ["AgentError", "LimitReached", "RunFailed"]


class AgentError(AgentForgeError):
    """The agent was used wrongly (bad arguments, a session bound to another event loop)."""


class LimitReached(Exception):
    """A run budget is spent; ends the run with status "limit" and says which."""

    def __init__(self, kind: str, limit: float, used: float, message: str) -> None:
        super().__init__(message)
        self.kind, self.limit, self.used, self.message = kind, limit, used, message


class RunFailed(Exception):
    """Ends the run as failed with a message for the user (environment, not a bug)."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage
        self.message = message
