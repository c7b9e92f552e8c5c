"""RunPod Serverless vLLM endpoints: an OpenAI brain whose URL is built from the endpoint id."""

from __future__ import annotations

import re
from typing import Any

from agentforge_jupyter.brains.errors import BrainConfigError
from agentforge_jupyter.brains.openai_brain import OpenAIBrain

__all__ = ["RUNPOD_API_KEY_ENV", "RUNPOD_URL_TEMPLATE", "RunPodBrain", "runpod_base_url"]

RUNPOD_URL_TEMPLATE = "https://api.runpod.ai/v2/{endpoint_id}/openai/v1"
RUNPOD_API_KEY_ENV = "RUNPOD_API_KEY"
_ENDPOINT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def runpod_base_url(endpoint_id: str) -> str:
    """``https://api.runpod.ai/v2/<endpoint_id>/openai/v1`` for a valid endpoint id."""
    endpoint_id = (endpoint_id or "").strip()
    if not _ENDPOINT_ID_RE.match(endpoint_id):
        raise BrainConfigError(
            f"RunPod endpoint id {endpoint_id!r} is not valid: use the id shown in the RunPod "
            "console (letters, digits, '-' and '_'), not a URL."
        )
    return RUNPOD_URL_TEMPLATE.format(endpoint_id=endpoint_id)


class RunPodBrain(OpenAIBrain):
    """A RunPod Serverless vLLM worker's OpenAI-compatible route; key from $RUNPOD_API_KEY."""

    kind = "runpod"

    def __init__(
        self,
        *,
        name: str,
        endpoint_id: str,
        model: str,
        api_key_env: str | None = RUNPOD_API_KEY_ENV,
        **settings: Any,
    ) -> None:
        self.endpoint_id = endpoint_id.strip()
        super().__init__(
            name=name,
            model=model,
            base_url=runpod_base_url(endpoint_id),
            api_key_env=api_key_env or RUNPOD_API_KEY_ENV,
            **settings,
        )
