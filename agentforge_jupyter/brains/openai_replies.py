"""Reading a chat completion into a `BrainReply`: a whole response or a stream of chunks, with
the reply-length cap, the empty-reply check and token usage (estimated when not reported)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import openai
from openai import AsyncStream
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from agentforge_jupyter.brains.base import BrainReply, DeltaCallback
from agentforge_jupyter.brains.errors import BrainReplyError
from agentforge_jupyter.brains.openai_errors import OpenAIErrors
from agentforge_jupyter.brains.openai_transport import transport_errors
from agentforge_jupyter.brains.prompts import Message

__all__ = ["OpenAIReplies", "estimate_usage"]


class OpenAIReplies(OpenAIErrors):
    """Reply reading for a brain (mixed into `OpenAIBrain`)."""

    def _read_whole(self, response: ChatCompletion, on_delta: DeltaCallback | None) -> BrainReply:
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

    async def _read_stream(
        self, stream: AsyncStream[ChatCompletionChunk], on_delta: DeltaCallback | None
    ) -> BrainReply:
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
        except transport_errors(openai.APIConnectionError) as exc:
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


def estimate_usage(reply: BrainReply, messages: Sequence[Message]) -> None:
    # Servers that report no usage still count against token limits: about 4 chars a token.
    chars = sum(len(m.get("content", "")) for m in messages)
    reply.prompt_tokens = math.ceil(chars / 4)
    reply.completion_tokens = math.ceil(len(reply.text) / 4)
