"""Errors of the server extension's own services (the handlers map them to HTTP statuses)."""

from __future__ import annotations

from ..errors import AgentForgeError


class RunNotFoundError(AgentForgeError):
    """No run with that id in the state directory."""


class RunStateError(AgentForgeError):
    """The run is not in a state that allows this (e.g. export before it ended)."""


class TooManyRunsError(AgentForgeError):
    """The server already executes as many runs as it is configured to."""
