"""Brains: what writes the plans, code and insights (see ``base`` for the contract).

Heavy modules (the ``openai`` client) load on first use, so importing this package is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentforge_jupyter.brains.base import (
    Brain,
    BrainReply,
    BrainRequest,
    DeltaCallback,
    Observation,
    Plan,
    PlanStep,
)
from agentforge_jupyter.brains.errors import (
    BrainConfigError,
    BrainConnectionError,
    BrainError,
    BrainHTTPError,
    BrainReplyError,
    BrainTimeoutError,
    CodeParseError,
    DuplicateBrainError,
    PlanParseError,
    UnknownBrainError,
)
from agentforge_jupyter.brains.plan_parsing import PLAN_SCHEMA, extract_code, parse_plan

if TYPE_CHECKING:
    from agentforge_jupyter.brains.offline import OfflineBrain, OfflineFinanceBrain
    from agentforge_jupyter.brains.openai_brain import OpenAIBrain
    from agentforge_jupyter.brains.registry import BrainRegistry, BrainSpec
    from agentforge_jupyter.brains.runpod import RunPodBrain

__all__ = [
    "PLAN_SCHEMA",
    "Brain",
    "BrainConfigError",
    "BrainConnectionError",
    "BrainError",
    "BrainHTTPError",
    "BrainRegistry",
    "BrainReply",
    "BrainReplyError",
    "BrainRequest",
    "BrainSpec",
    "BrainTimeoutError",
    "CodeParseError",
    "DeltaCallback",
    "DuplicateBrainError",
    "Observation",
    "OfflineBrain",
    "OfflineFinanceBrain",
    "OpenAIBrain",
    "Plan",
    "PlanParseError",
    "PlanStep",
    "RunPodBrain",
    "UnknownBrainError",
    "extract_code",
    "parse_plan",
]

_LAZY = {
    "BrainRegistry": "agentforge_jupyter.brains.registry",
    "BrainSpec": "agentforge_jupyter.brains.registry",
    "OfflineBrain": "agentforge_jupyter.brains.offline",
    "OfflineFinanceBrain": "agentforge_jupyter.brains.offline",
    "OpenAIBrain": "agentforge_jupyter.brains.openai_brain",
    "RunPodBrain": "agentforge_jupyter.brains.runpod",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
