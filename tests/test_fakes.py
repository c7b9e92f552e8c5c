"""The shared fakes behave as documented (tests/fakes.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from agentforge_jupyter.brains.base import Brain, BrainReply, BrainRequest
from agentforge_jupyter.brains.errors import BrainError
from tests.fakes import FakeOpenAIServer, QueuedBrain, QueueExhaustedError


async def test_queued_brain_replies_in_order_and_records() -> None:
    brain = QueuedBrain(["first", lambda request: f"echo {request.task}"], chunk_size=2)
    assert isinstance(brain, Brain)
    deltas: list[str] = []
    one = await brain.ask(BrainRequest(task="plan", goal="g"), on_delta=deltas.append)
    two = await brain.ask(BrainRequest(task="code", goal="g"))
    assert (one.text, two.text) == ("first", "echo code")
    assert deltas == ["fi", "rs", "t"]
    assert brain.tasks == ["plan", "code"]
    with pytest.raises(QueueExhaustedError, match="no reply queued for task 'insights'"):
        await brain.ask(BrainRequest(task="insights", goal="g"))


async def test_queued_brain_raises_queued_errors_and_passes_replies() -> None:
    reply = BrainReply(text="x", model="m", prompt_tokens=3, completion_tokens=4)
    brain = QueuedBrain().queue(BrainError("boom"), lambda _: reply)
    with pytest.raises(BrainError, match="boom"):
        await brain.ask(BrainRequest(task="plan", goal="g"))
    assert await brain.ask(BrainRequest(task="plan", goal="g")) is reply


def test_fake_server_speaks_http_and_records() -> None:
    with FakeOpenAIServer(models=["a"]) as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.base_url + "/models") as response:
            assert json.load(response)["data"][0]["id"] == "a"
        body = json.dumps({"model": "a", "messages": [{"role": "user", "content": "hi"}]})
        request = urllib.request.Request(
            server.base_url + "/chat/completions",
            data=body.encode(),
            headers={"Content-Type": "application/json", "Authorization": "Bearer k"},
        )
        with pytest.raises(urllib.error.HTTPError) as caught:  # nothing queued yet
            urllib.request.urlopen(request)
        assert caught.value.code == 400
        server.reply("hello")
        with urllib.request.urlopen(request) as response:
            assert json.load(response)["choices"][0]["message"]["content"] == "hello"
        assert [r.method for r in server.requests] == ["GET", "POST", "POST"]
        assert server.chat_requests[-1].headers["authorization"] == "Bearer k"
        assert server.chat_requests[-1].user_text == "hi"
        assert server.pending == 0
