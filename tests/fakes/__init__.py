"""Shared test fakes, in one place: real HTTP servers on loopback that speak the real wire
protocols (OpenAI-compatible, vLLM's LoRA routes, RunPod's hosted serverless API), all on one
``LoopbackServer`` base with scripted faults; a queued in-process brain; a tiny model.

    with FakeOpenAIServer(models=["base", "finance-lora"]) as server:
        server.rate_limit().reply("hello")
        brain = OpenAIBrain(name="t", model="base", base_url=server.base_url)
"""

from .brains import (
    FRAME,
    QueuedBrain,
    QueueExhaustedError,
    code,
    http_brain,
    plan_json,
    wait_for_event,
)
from .loopback import LoopbackServer, QuietHandler
from .models import build_tiny_model
from .openai_server import FakeOpenAIServer, RecordedRequest, Scripted
from .runpod_server import FakeRunPodServer
from .vllm_server import FakeVLLMServer

__all__ = [
    "FRAME",
    "FakeOpenAIServer",
    "FakeRunPodServer",
    "FakeVLLMServer",
    "LoopbackServer",
    "QueueExhaustedError",
    "QueuedBrain",
    "QuietHandler",
    "RecordedRequest",
    "Scripted",
    "build_tiny_model",
    "code",
    "http_brain",
    "plan_json",
    "wait_for_event",
]
