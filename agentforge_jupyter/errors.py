"""Typed exceptions. Every message says what went wrong and what to do about it."""

from __future__ import annotations


class AgentForgeError(Exception):
    """Base class for errors AgentForge raises on purpose."""


class StateError(AgentForgeError):
    """The state directory or one of its documents cannot be used."""


class CorruptStateError(StateError):
    """A state document exists but cannot be parsed or fails validation."""


class DatasetError(AgentForgeError):
    """A dataset cannot be added, read or found."""


class SandboxError(AgentForgeError):
    """The sandbox could not be started or used (not an error in the user's code)."""


class IsolationUnavailableError(SandboxError):
    """Full isolation was required but bubblewrap (or user namespaces) is not usable."""
