"""Chat messages -> the text a causal language model sees, the same for training and generation.

A tokenizer with a chat template uses it (as vLLM does when it serves the adapter). A tokenizer
without one (a tiny test model, an old base model) gets a plain, documented fallback template, so
that a brain generating from the trained model sees prompts shaped exactly as in training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["FALLBACK_TEMPLATE", "prompt_text", "split_example"]

# Used only when the tokenizer has no chat template.
FALLBACK_TEMPLATE = "<|{role}|>\n{content}\n"
_ASSISTANT_OPENING = "<|assistant|>\n"


def _has_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def prompt_text(tokenizer: Any, messages: Sequence[dict[str, str]]) -> str:
    """The text that asks for the next assistant message after ``messages``."""
    if _has_template(tokenizer):
        return str(
            tokenizer.apply_chat_template(
                list(messages), tokenize=False, add_generation_prompt=True
            )
        )
    rendered = "".join(
        FALLBACK_TEMPLATE.format(role=m["role"], content=m["content"]) for m in messages
    )
    return rendered + _ASSISTANT_OPENING


def split_example(tokenizer: Any, messages: Sequence[dict[str, str]]) -> tuple[str, str]:
    """``(prompt, completion)``: the last (assistant) message is what the model learns; the
    completion ends with the end-of-sequence token so the model learns to stop."""
    prompt = prompt_text(tokenizer, messages[:-1])
    eos = getattr(tokenizer, "eos_token", None) or ""
    return prompt, messages[-1]["content"] + eos
