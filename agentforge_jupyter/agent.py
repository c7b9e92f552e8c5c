"""Compatibility facade: the run layer lives in `agentforge_jupyter.run` (see its docstring).

from agentforge_jupyter.agent import Agent, Run, load_run   # keeps working
"""

from __future__ import annotations

from .run import (
    DEFAULT_MAX_STEPS,
    Agent,
    AgentError,
    AgentOptions,
    AgentSession,
    Attempt,
    DatasetRef,
    Run,
    RunLimits,
    StepRecord,
    ToolProposal,
    accept_proposal,
    load_run,
    observation_text,
    split_insights,
    validate_steps,
)

__all__ = [
    "DEFAULT_MAX_STEPS",
    "Agent",
    "AgentError",
    "AgentOptions",
    "AgentSession",
    "Attempt",
    "DatasetRef",
    "Run",
    "RunLimits",
    "StepRecord",
    "ToolProposal",
    "accept_proposal",
    "load_run",
    "observation_text",
    "split_insights",
    "validate_steps",
]
