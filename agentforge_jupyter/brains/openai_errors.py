"""How `OpenAIBrain` turns what goes wrong into typed brain errors that say what to do: the
client's timeouts, connection and HTTP errors, broken streams, empty and runaway replies."""

from __future__ import annotations

import os

import openai

from agentforge_jupyter.brains.errors import (
    BrainConnectionError,
    BrainError,
    BrainHTTPError,
    BrainReplyError,
    BrainTimeoutError,
    ReplyTooLongError,
)
from agentforge_jupyter.brains.openai_transport import transport_errors

__all__ = ["OpenAIErrors"]


class OpenAIErrors:
    """Error mapping for a brain with these settings (mixed into `OpenAIBrain`)."""

    name: str
    model: str
    base_url: str
    api_key_env: str | None
    timeout: float
    retries: int
    max_tokens: int
    max_reply_chars: int

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
        if isinstance(exc, transport_errors()):
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
