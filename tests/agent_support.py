"""Helpers shared by the agent tests (a support module, not a test module); their fixtures
`store` and `sandbox` live in conftest.py."""

from __future__ import annotations

from typing import Any

from agentforge_jupyter.agent import Agent

from .fakes import FRAME


def make_agent(brain: Any, sandbox: Any, store: Any, **options: Any) -> Agent:
    """An Agent on the test's sandbox and state, analysing the small FRAME unless told not to."""
    options.setdefault("dataset", FRAME)
    return Agent(brain=brain, sandbox=sandbox, state=store, **options)


def types(run: Any) -> list[str]:
    """The run's event types, in order."""
    return [e.type for e in run.events]
