"""A brain behind any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server).

The API key is read from the environment variable named in ``api_key_env`` at call time and is
never stored. Streaming is used when the caller wants deltas; servers that reject streaming (or
``stream_options``, or ``response_format``) are retried without the feature, and the brain
remembers what the endpoint does not support.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import ssl
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import openai
from openai import AsyncOpenAI

from agentforge_jupyter.brains.base import BrainReply, BrainRequest, DeltaCallback
from agentforge_jupyter.brains.errors import (
    BrainConfigError,
    BrainConnectionError,
    BrainError,
    BrainHTTPError,
    BrainReplyError,
    BrainTimeoutError,
    ReplyTooLongError,
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
# Statuses with which servers refuse a request feature (stream, stream_options,
# response_format); the request is then retried without it.
_REJECTED_STATUSES = {400, 415, 422, 501}


def is_local_url(url: str) -> bool:
    """True for loopback endpoints (localhost, 127.0.0.0/8, ::1): no API key needed there."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OpenAIBrain:
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
        context = _ssl_context()
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
                    if exc.status_code not in _REJECTED_STATUSES:
                        raise self._convert(exc) from exc
                    failures.append((features, exc))
                    continue
                except _transport_errors(openai.OpenAIError, json.JSONDecodeError) as exc:
                    raise self._convert(exc) from exc
                for failed, _exc in failures:
                    self.unsupported |= failed - features
                if not reply.prompt_tokens and not reply.completion_tokens:
                    _estimate_usage(reply, messages)
                return reply
        first = failures[0][1]
        raise self._convert(first) from first

    async def list_models(self) -> list[str]:
        """Model ids the endpoint serves (``GET /models``); LoRA adapters appear here."""
        async with self._client() as client:
            try:
                return [model.id async for model in client.models.list()]
            except _transport_errors(openai.OpenAIError) as exc:
                raise self._convert(exc) from exc

    # -- requests

    def _variants(
        self, *, streaming: bool, rf: dict[str, Any] | None
    ) -> list[tuple[set[str], dict[str, Any]]]:
        modes: list[tuple[set[str], dict[str, Any]]] = []
        if streaming and "stream" not in self.unsupported:
            if "stream_usage" not in self.unsupported:
                modes.append(
                    ({"stream", "stream_usage"}, {"stream_options": {"include_usage": True}})
                )
            modes.append(({"stream"}, {}))
        modes.append((set(), {}))
        if rf is None or "json_schema" in self.unsupported:
            return modes
        with_rf = [(f | {"json_schema"}, {**extra, "response_format": rf}) for f, extra in modes]
        return with_rf + modes

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
        if not getattr(response, "choices", None):
            raise BrainReplyError(
                f"Brain {self.name!r} ({self.model}) returned a response with no choices. "
                "Check that the endpoint is an OpenAI-compatible chat completions server."
            )
        choice = response.choices[0]
        text = (choice.message.content if choice.message else None) or ""
        if len(text) > self.max_reply_chars:
            raise self._too_long(len(text))
        self._check_text(text, choice.finish_reason)
        if on_delta is not None:
            on_delta(text)
        usage = response.usage
        return BrainReply(
            text=text,
            model=response.model or self.model,
            prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
            completion_tokens=(usage.completion_tokens or 0) if usage else 0,
        )

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
        pieces: list[str] = []
        received = 0
        finish: str | None = None
        model = self.model
        usage = None
        try:
            async for chunk in stream:
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices or []:
                    delta = choice.delta.content if choice.delta else None
                    if delta:
                        pieces.append(delta)
                        received += len(delta)
                        if received > self.max_reply_chars:
                            raise self._too_long(received)
                        if on_delta is not None:
                            on_delta(delta)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        except _transport_errors(openai.APIConnectionError) as exc:
            raise self._broken_stream(len("".join(pieces)), exc) from exc
        finally:
            await stream.close()
        text = "".join(pieces)
        if finish is None:
            raise self._broken_stream(len(text), None)
        self._check_text(text, finish)
        return BrainReply(
            text=text,
            model=model,
            prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
            completion_tokens=(usage.completion_tokens or 0) if usage else 0,
        )

    # -- errors

    def _check_text(self, text: str, finish: str | None) -> None:
        if text.strip():
            return
        hint = (
            "the reply hit the token limit before any text; raise max_tokens"
            if finish == "length"
            else "retry, or check the model's chat template on the server"
        )
        raise BrainReplyError(
            f"Brain {self.name!r} ({self.model}) returned an empty reply "
            f"(finish_reason={finish!r}): {hint}."
        )

    def _too_long(self, received: int) -> ReplyTooLongError:
        return ReplyTooLongError(
            f"Brain {self.name!r} ({self.model}) sent a reply longer than "
            f"{self.max_reply_chars:,} characters ({received:,} received) and it was cut off: "
            f"the server ignored max_tokens={self.max_tokens}. Keep the reply short: one plan, "
            "or one code block."
        )

    def _broken_stream(self, received: int, exc: BaseException | None) -> BrainConnectionError:
        cause = f": {str(exc).rstrip('.')}" if exc is not None and str(exc) else ""
        return BrainConnectionError(
            f"Brain {self.name!r}: the stream from {self.base_url} ended before the model "
            f"finished (after {received} characters){cause}. The partial reply was discarded; "
            "the server may have restarted or a proxy cut the connection. Try again."
        )

    def _convert(self, exc: BaseException) -> BrainError:
        where = f"Brain {self.name!r} ({self.model} at {self.base_url})"
        tries = f"{self.retries + 1} attempt(s)"
        if isinstance(exc, BrainError):
            return exc
        if isinstance(exc, openai.APITimeoutError):
            return BrainTimeoutError(
                f"{where} did not answer within {self.timeout:g} s ({tries}). The server may be "
                "busy or cold-starting (serverless workers can take minutes): raise the brain's "
                "timeout or retries."
            )
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return BrainConnectionError(
                f"{where} cannot be reached: {cause}. Check that the server is running and "
                "that base_url is its OpenAI-compatible root (usually ending in /v1)."
            )
        if isinstance(exc, openai.APIStatusError):
            return BrainHTTPError(self._status_message(where, tries, exc), exc.status_code)
        if isinstance(exc, (openai.APIResponseValidationError, ValueError)):
            return BrainReplyError(
                f"{where} sent a response that is not valid OpenAI-compatible JSON ({exc}). "
                "Check that base_url points at a chat completions API."
            )
        if isinstance(exc, _transport_errors()):
            return BrainConnectionError(f"{where}: the connection failed ({exc}). Try again.")
        return BrainError(f"{where} failed: {exc}")

    def _status_message(self, where: str, tries: str, exc: openai.APIStatusError) -> str:
        status = exc.status_code
        detail = _error_detail(exc)
        if status in (401, 403) and not self.api_key_env:
            return (
                f"{where} needs an API key (HTTP {status}): {detail}. Put the key in an "
                "environment variable and register the brain with --api-key-env VAR."
            )
        if status in (401, 403) and not os.environ.get(self.api_key_env or "", "").strip():
            return (
                f"{where} requires an API key (HTTP {status}), but the variable "
                f"{self.api_key_env} is not set. Set it in the environment that starts Jupyter "
                f"(export {self.api_key_env}=...), or register the brain with another "
                "--api-key-env."
            )
        if status in (401, 403):
            return (
                f"{where} rejected the API key from ${self.api_key_env} (HTTP {status}): "
                f"{detail}. Check the key and that it is allowed to use this model."
            )
        if status == 404:
            return (
                f"{where} answered 404 Not Found: {detail}. Check base_url and the model name; "
                f"`agentforge brains models {self.name}` lists what the endpoint serves."
            )
        if status == 429:
            return (
                f"{where} is rate limiting requests (HTTP 429) after {tries}: {detail}. Wait "
                "and run again, or raise the brain's retries."
            )
        if status >= 500:
            return f"{where} had a server error (HTTP {status}) after {tries}: {detail}."
        return f"{where} refused the request (HTTP {status}): {detail}."


def _error_detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if isinstance(message, str) and message:
            return message
    return str(exc.message or exc)


_SSL_CONTEXTS: dict[tuple[str, str], ssl.SSLContext] = {}


def _ssl_context() -> ssl.SSLContext | None:
    """The HTTP library's default TLS context, built once per CA-bundle setting."""
    key = (os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))
    if key not in _SSL_CONTEXTS:
        for module_name in ("httpx2", "httpx"):
            try:
                module = __import__(module_name)
                _SSL_CONTEXTS[key] = module.create_ssl_context()
                break
            except (ImportError, AttributeError, TypeError, OSError, ssl.SSLError):
                continue
        else:
            return None
    return _SSL_CONTEXTS[key]


def _transport_errors(*also: type[BaseException]) -> tuple[type[BaseException], ...]:
    """``also`` followed by the HTTP library's transport errors (built here rather than by
    unpacking into an ``except`` tuple, which type checkers cannot follow)."""
    # The openai client wraps most transport errors, but not those raised while iterating a
    # stream; its HTTP library is httpx2 in current versions and httpx in older ones.
    found: list[type[BaseException]] = list(also)
    for module_name in ("httpx2", "httpx"):
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        found.append(module.HTTPError)
        found.append(module.StreamError)
    return tuple(found)


def _estimate_usage(reply: BrainReply, messages: Sequence[Message]) -> None:
    # Servers that report no usage still count against token limits: about 4 chars a token.
    chars = sum(len(m.get("content", "")) for m in messages)
    reply.prompt_tokens = math.ceil(chars / 4)
    reply.completion_tokens = math.ceil(len(reply.text) / 4)
