"""A brain behind any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

The API key is read from the environment variable named in ``api_key_env`` at call time and is
never stored. Streaming is used when the caller wants deltas; servers that reject streaming (or
``stream_options``, or ``response_format``) are retried without the feature, and the brain
remembers what the endpoint does not support.

Its parts: `openai_transport` (TLS context, transport errors, request variants),
`openai_errors` (typed errors that say what to do) and `openai_replies` (a response or a
stream read into a `BrainReply`).
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import openai
from openai import AsyncOpenAI

from agentforge_jupyter.brains.base import BrainReply, BrainRequest, DeltaCallback
from agentforge_jupyter.brains.errors import BrainConfigError, ReplyTooLongError
from agentforge_jupyter.brains.openai_replies import OpenAIReplies, estimate_usage
from agentforge_jupyter.brains.openai_transport import (
    REJECTED_STATUSES,
    request_variants,
    ssl_context,
    transport_errors,
)
from agentforge_jupyter.brains.plan_parsing import plan_response_format
from agentforge_jupyter.brains.prompts import Message, build_messages, prompt_hash

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DUMMY_API_KEY",
    "OpenAIBrain",
    "ReplyTooLongError",
    "is_local_url",
]

DUMMY_API_KEY = "agentforge-no-key"
#: Completion tokens asked for on every call unless the brain is configured otherwise.
DEFAULT_MAX_TOKENS = 4096
# Characters a reply may reach per completion token asked for, before it is cut off: a server
# that ignores max_tokens must not stream megabytes into a run.
_CHARS_PER_TOKEN_CAP = 8


def is_local_url(url: str) -> bool:
    """True for loopback endpoints (localhost, 127.0.0.0/8, ::1): no API key needed there."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OpenAIBrain(OpenAIReplies):
    """A brain that sends chat completions to ``base_url`` with the real ``openai`` client."""

    kind = "openai"

    def __init__(
        self,
        *,
        name: str,
        model: str,
        base_url: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout: float = 60.0,
        retries: int = 2,
        temperature: float = 0.2,
        supports_json_schema: bool = False,
        stream: bool = True,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        max_reply_chars: int | None = None,
        allowed_imports: Sequence[str] | None = None,
    ) -> None:
        if not base_url or urlsplit(base_url).scheme not in ("http", "https"):
            raise BrainConfigError(
                f"Brain {name!r}: base_url {base_url!r} is not an http(s) URL. Use the "
                "endpoint's OpenAI-compatible root, such as http://localhost:8000/v1."
            )
        if not model:
            raise BrainConfigError(f"Brain {name!r} has no model name; set one with --model.")
        self.name = name
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env or None
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.temperature = float(temperature)
        self.supports_json_schema = supports_json_schema
        self.stream = stream
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens <= 0:
            raise BrainConfigError(
                f"Brain {name!r}: max_tokens must be a positive whole number, not {max_tokens!r}."
            )
        self.max_tokens = max_tokens
        # The most reply text accepted per call; longer replies stop with ReplyTooLongError.
        self.max_reply_chars = int(max_reply_chars or max_tokens * _CHARS_PER_TOKEN_CAP)
        # None: the lint policy's list (brains/prompts.allowed_imports).
        self.allowed_imports = tuple(allowed_imports) if allowed_imports is not None else None
        # Features this endpoint refused once; not offered again.
        self.unsupported: set[str] = set()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, model={self.model!r}, "
            f"base_url={self.base_url!r})"
        )

    # -- keys

    def api_key(self) -> str:
        """The key from the environment, read now; a dummy key for local endpoints."""
        if self.api_key_env:
            key = os.environ.get(self.api_key_env, "").strip()
            if key:
                return key
        if is_local_url(self.base_url) or not self.api_key_env:
            return DUMMY_API_KEY
        raise BrainConfigError(
            f"Brain {self.name!r} needs an API key in the environment variable "
            f"{self.api_key_env}, which is not set. Set it in the environment that starts "
            f"Jupyter (export {self.api_key_env}=...), or register the brain with another "
            "--api-key-env."
        )

    def _client(self) -> AsyncOpenAI:
        # One client per call: no connection outlives the event loop that made it. The TLS
        # context is shared, because building one costs ~20 ms (it loads the CA bundle).
        context = ssl_context()
        return AsyncOpenAI(
            api_key=self.api_key(),
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.retries,
            http_client=openai.DefaultAsyncHttpxClient(verify=context) if context else None,
        )

    # -- the Brain protocol

    async def ask(self, request: BrainRequest, on_delta: DeltaCallback | None = None) -> BrainReply:
        messages = build_messages(request, imports=self.allowed_imports)
        response_format = (
            plan_response_format() if request.task == "plan" and self.supports_json_schema else None
        )
        reply = await self.complete(messages, on_delta=on_delta, response_format=response_format)
        reply.prompt_hash = prompt_hash(messages)
        return reply

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        on_delta: DeltaCallback | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> BrainReply:
        """One chat completion. Streams (and calls ``on_delta``) when a callback is given."""
        variants = self._variants(
            streaming=on_delta is not None and self.stream, rf=response_format
        )
        async with self._client() as client:
            failures: list[tuple[set[str], BaseException]] = []
            for features, extra in variants:
                try:
                    if "stream" in features:
                        reply = await self._streamed(client, messages, extra, on_delta)
                    else:
                        reply = await self._whole(client, messages, extra, on_delta)
                except openai.APIStatusError as exc:
                    if exc.status_code not in REJECTED_STATUSES:
                        raise self._convert(exc) from exc
                    failures.append((features, exc))
                    continue
                except transport_errors(openai.OpenAIError, json.JSONDecodeError) as exc:
                    raise self._convert(exc) from exc
                for failed, _exc in failures:
                    self.unsupported |= failed - features
                if not reply.prompt_tokens and not reply.completion_tokens:
                    estimate_usage(reply, messages)
                return reply
        first = failures[0][1]
        raise self._convert(first) from first

    async def list_models(self) -> list[str]:
        """Model ids the endpoint serves (``GET /models``); LoRA adapters appear here."""
        async with self._client() as client:
            try:
                return [model.id async for model in client.models.list()]
            except transport_errors(openai.OpenAIError) as exc:
                raise self._convert(exc) from exc

    # -- requests

    def _variants(
        self, *, streaming: bool, rf: dict[str, Any] | None
    ) -> list[tuple[set[str], dict[str, Any]]]:
        return request_variants(self.unsupported, streaming=streaming, rf=rf)

    def _base_params(self, messages: Sequence[Message]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        return params

    async def _whole(
        self,
        client: AsyncOpenAI,
        messages: Sequence[Message],
        extra: dict[str, Any],
        on_delta: DeltaCallback | None,
    ) -> BrainReply:
        response = await client.chat.completions.create(**self._base_params(messages), **extra)
        return self._read_whole(response, on_delta)

    async def _streamed(
        self,
        client: AsyncOpenAI,
        messages: Sequence[Message],
        extra: dict[str, Any],
        on_delta: DeltaCallback | None,
    ) -> BrainReply:
        stream = await client.chat.completions.create(
            **self._base_params(messages), stream=True, **extra
        )
        return await self._read_stream(stream, on_delta)
