"""The run layer: a goal in; a plan, linted and sandboxed code, outputs and insights out.

    plan (brain "plan", parsed; one retry with the parse error)   planning.py
    for each step: brain "code" -> extract -> lint -> sandbox -> observation     steps.py
                   (lint findings, tracebacks, timeouts go back to the brain as "repair")
    insights (brain "insights", from the observations only)       runner.py
    tool proposals (one brain call for the whole run, opt-in)     proposals.py

Everything that happens is an event (events.py), persisted before front ends see it. Errors the
model caused (unparsable replies, lint findings, exceptions in its code) go back to the model;
transport, sandbox and dataset failures end the run as failed with a clear reason; bugs in
AgentForge itself raise (after the run is recorded as failed).

Modules: records (Run, StepRecord, Attempt, DatasetRef, ToolProposal, load_run), limits
(RunLimits, DEFAULT_MAX_STEPS, validate_steps), options (AgentOptions), data (the dataset),
session (AgentSession), gateway (brain calls and budgets), planning, steps, proposals,
lifecycle (open, start, finish, cancel), runner (drives a run), sync (blocking wrappers),
agent (the Agent facade), text (observations, failures, insights).
"""

from __future__ import annotations

from .agent import Agent
from .errors import AgentError
from .limits import DEFAULT_MAX_STEPS, InvalidSteps, RunLimits, validate_steps
from .options import AgentOptions
from .proposals import accept_proposal
from .records import (
    DEFAULT_VARIABLE,
    Attempt,
    DatasetRef,
    Run,
    StepRecord,
    ToolProposal,
    load_run,
)
from .session import AgentSession
from .text import failure_text, observation_text, split_insights

__all__ = [
    "DEFAULT_MAX_STEPS",
    "DEFAULT_VARIABLE",
    "Agent",
    "AgentError",
    "AgentOptions",
    "AgentSession",
    "Attempt",
    "DatasetRef",
    "InvalidSteps",
    "Run",
    "RunLimits",
    "StepRecord",
    "ToolProposal",
    "accept_proposal",
    "failure_text",
    "load_run",
    "observation_text",
    "split_insights",
    "validate_steps",
]
