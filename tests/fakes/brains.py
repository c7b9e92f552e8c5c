"""Scripted brains for agent tests: a queued in-process brain, a real OpenAIBrain pointed at
the fake server, and the replies (plans, code) they are scripted with."""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from agentforge_jupyter.brains.base import BrainReply, BrainRequest, DeltaCallback

from .openai_server import FakeOpenAIServer

FRAME = pd.DataFrame({"region": ["N", "S", "N", "E"], "revenue": [10.0, 20.0, 30.0, 5.0]})


def plan_json(*titles: str) -> str:
    """A plan reply with one step per title (ids s1, s2, ...)."""
    steps = [
        {"id": f"s{i}", "title": t, "rationale": "r", "expected": "e"}
        for i, t in enumerate(titles, start=1)
    ]
    return json.dumps({"goal": "g", "steps": steps})


def code(source: str) -> str:
    """A code reply: prose, then ``source`` in a python fence."""
    return f"Here you go:\n```python\n{source}\n```\n"


def http_brain(server: FakeOpenAIServer, **options: Any) -> Any:
    """A real OpenAIBrain talking to ``server`` (key from $AGENTFORGE_TEST_KEY)."""
    from agentforge_jupyter.brains.openai_brain import OpenAIBrain

    settings = {"timeout": 5.0, "retries": 2, **options, "api_key_env": "AGENTFORGE_TEST_KEY"}
    return OpenAIBrain(name="fake-http", model="base", base_url=server.base_url, **settings)


async def wait_for_event(agent: Any, kind: str, timeout: float = 30.0) -> None:
    """Wait until the agent's newest run has emitted an event of type ``kind``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = agent.last_run
        if run is not None and any(e.type == kind for e in run.events):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {kind} event within {timeout} s")


class QueueExhaustedError(AssertionError):
    """A QueuedBrain was asked more often than replies were queued: a broken test script, not
    a brain failure. Not a BrainError, so the agent does not turn it into a failed run; it
    propagates (after the run is recorded) and fails the test."""


Reply = str | BaseException | Callable[[BrainRequest], "str | BrainReply"]


class QueuedBrain:
    """A Brain answering from a queue of strings, callables of the request, or exceptions.

    Records every request in ``requests``. Replies are streamed to ``on_delta`` in chunks of
    ``chunk_size`` characters; ``latency`` (seconds) is awaited before answering.
    """

    kind = "queued"

    def __init__(
        self,
        replies: Iterable[Reply] = (),
        *,
        name: str = "queued",
        model: str = "queued-model",
        chunk_size: int = 16,
        latency: float = 0.0,
    ) -> None:
        self.name = name
        self.model = model
        self.chunk_size = chunk_size
        self.latency = latency
        self.replies: deque[Reply] = deque(replies)
        self.requests: list[BrainRequest] = []

    def queue(self, *replies: Reply) -> QueuedBrain:
        self.replies.extend(replies)
        return self

    @property
    def tasks(self) -> list[str]:
        return [r.task for r in self.requests]

    async def ask(self, request: BrainRequest, on_delta: DeltaCallback | None = None) -> BrainReply:
        self.requests.append(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        if not self.replies:
            raise QueueExhaustedError(
                f"QueuedBrain {self.name!r} has no reply queued for task {request.task!r} "
                f"(request {len(self.requests)})."
            )
        item = self.replies.popleft()
        if isinstance(item, BaseException):
            raise item
        answer = item(request) if callable(item) else item
        reply = (
            answer
            if isinstance(answer, BrainReply)
            else BrainReply(
                text=answer,
                model=self.model,
                prompt_tokens=max(1, len(request.goal) // 4),
                completion_tokens=max(1, len(answer) // 4),
            )
        )
        if on_delta is not None:
            size = max(1, self.chunk_size)
            for start in range(0, len(reply.text), size):
                on_delta(reply.text[start : start + size])
        return reply


# =========================================================================== training fakes
