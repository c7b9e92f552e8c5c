"""How an Agent runs: one dataclass, the one place every default lives."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .errors import AgentError
from .limits import RunLimits
from .records import DEFAULT_VARIABLE

if TYPE_CHECKING:
    from ..brains.base import Brain
    from ..lint import LintPolicy
    from .session import AgentSession

__all__ = ["AgentOptions", "RunContext"]


@dataclass
class AgentOptions:
    """Settings of an Agent. Every keyword of `Agent(...)` except brain, dataset, sandbox,
    session, state, registry and on_event is a field here, with the same default.

    `repairs`: repair requests allowed per step (lint and runtime failures share the budget).
    `propose_tools`: after the run, ask the brain once for reusable functions from its code;
    verified ones are reported, and stored when `auto_register` (which implies proposing).
    """

    limits: RunLimits = field(default_factory=RunLimits)
    repairs: int = 2
    step_timeout: float = 60.0
    variable: str = DEFAULT_VARIABLE
    lint_policy: LintPolicy | None = None
    tools: list[dict[str, Any]] | None = None  # None: retrieve from the registry
    propose_tools: bool = False
    auto_register: bool = False
    max_proposals: int = 3
    sandbox_settings: dict[str, Any] = field(default_factory=dict)
    # A DataFrame's `attrs` stay on the host unless asked for (they can hold credentials).
    keep_attrs: bool = False

    def __post_init__(self) -> None:
        if self.limits is None:
            self.limits = RunLimits()
        if self.repairs is None or self.repairs < 0:
            raise AgentError(f"repairs must be 0 or more, not {self.repairs}")
        if self.step_timeout is None or self.step_timeout <= 0:
            raise AgentError(f"step_timeout must be positive, not {self.step_timeout}")
        if not str(self.variable).isidentifier():
            raise AgentError(f"variable {self.variable!r} is not a valid Python name")
        if self.max_proposals < 0:
            raise AgentError(f"max_proposals must be 0 or more, not {self.max_proposals}")
        self.step_timeout = float(self.step_timeout)
        self.propose_tools = bool(self.propose_tools or self.auto_register)
        self.sandbox_settings = dict(self.sandbox_settings or {})
        self.tools = list(self.tools) if self.tools else None

    @classmethod
    def names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))


@dataclass
class RunContext:
    """What the parts of a run share: the brain, the options, the data, the session."""

    brain: Brain
    options: AgentOptions
    data: Any  # DataSource
    session: AgentSession
