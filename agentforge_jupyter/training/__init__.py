"""LoRA training jobs: specs, data, the worker, the job store and its backends (docs/training.md).

Importing this package needs no torch: only the worker (and the transformers brain) import
torch, transformers and peft, in the process that trains or generates.
"""

from __future__ import annotations

from agentforge_jupyter.training.data import data_sha256, load_examples, validate_example
from agentforge_jupyter.training.errors import (
    CorruptJobError,
    JobSpecError,
    TrainingBackendError,
    TrainingDataError,
    TrainingError,
    UnknownJobError,
)
from agentforge_jupyter.training.joblog import STATUSES, TERMINAL, JobLog
from agentforge_jupyter.training.jobs import TrainingJobs, new_job_id
from agentforge_jupyter.training.spec import BACKENDS, JobSpec

__all__ = [
    "BACKENDS",
    "STATUSES",
    "TERMINAL",
    "CorruptJobError",
    "JobLog",
    "JobSpec",
    "JobSpecError",
    "TrainingBackendError",
    "TrainingDataError",
    "TrainingError",
    "TrainingJobs",
    "UnknownJobError",
    "data_sha256",
    "load_examples",
    "new_job_id",
    "validate_example",
]
