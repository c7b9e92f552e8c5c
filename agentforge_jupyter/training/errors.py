"""Typed training errors. Every message says what is wrong and what to do."""

from __future__ import annotations

from agentforge_jupyter.errors import AgentForgeError

__all__ = [
    "CorruptJobError",
    "JobSpecError",
    "TrainingBackendError",
    "TrainingDataError",
    "TrainingError",
    "UnknownJobError",
]


class TrainingError(AgentForgeError):
    """A training job could not be described, started, followed or cancelled."""


class JobSpecError(TrainingError):
    """A job spec is invalid (a missing base model, a negative rank, an unknown setting)."""


class TrainingDataError(TrainingError):
    """Training data is unusable; the message names the line and the field."""


class UnknownJobError(TrainingError):
    """No training job has that id."""


class CorruptJobError(TrainingError):
    """A job's ``job.json`` cannot be read as a job (not JSON, not an object); the message names
    the file. Not the caller's fault: the server answers 500."""


class TrainingBackendError(TrainingError):
    """The backend (local subprocess, RunPod) could not run or reach the job."""
