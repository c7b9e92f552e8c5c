"""A brain that generates locally with ``transformers``: a base model plus an optional LoRA adapter.

This is how a specialist trained by ``agentforge train`` is used at once, on CPU or GPU, without
a server. Prompts are built exactly as for the OpenAI-compatible brains (brains/prompts.py) and
rendered with the tokenizer's chat template, or the same fallback template the trainer used
(training/chat_format.py). Models are loaded once per (base, adapter) and shared; generation
runs in a thread and streams text pieces back to the event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentforge_jupyter.brains.base import BrainReply, BrainRequest, DeltaCallback
from agentforge_jupyter.brains.errors import BrainConfigError, BrainError, BrainReplyError
from agentforge_jupyter.brains.prompts import build_messages, prompt_hash
from agentforge_jupyter.training.chat_format import prompt_text

__all__ = ["TransformersBrain", "check_spec", "load_model"]

DEFAULT_MAX_NEW_TOKENS = 512
_cache: dict[tuple[str, str | None], tuple[Any, Any]] = {}
_cache_lock = threading.Lock()


def check_spec(spec: Any) -> None:
    """Validate a registry spec of kind "transformers" (called by BrainSpec.validated)."""
    if not spec.model:
        raise BrainConfigError(
            f"Brain {spec.name!r} of kind transformers needs a model: the base model's Hugging "
            "Face id or local directory."
        )
    if spec.base_url or spec.endpoint_id:
        raise BrainConfigError(
            f"Brain {spec.name!r}: a transformers brain runs locally; leave base_url and "
            "endpoint_id unset."
        )
    spec.adapter = (str(spec.adapter).strip() or None) if spec.adapter else None
    if spec.adapter:
        spec.adapter = str(Path(spec.adapter).expanduser().absolute())
    if spec.provenance is not None and not isinstance(spec.provenance, dict):
        raise BrainConfigError(f"Brain {spec.name!r}: provenance must be an object.")


def load_model(base_model: str, adapter: str | None = None) -> tuple[Any, Any]:
    """``(tokenizer, model)``, loaded once per process and shared by brains."""
    key = (base_model, adapter)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise BrainConfigError(
                "The transformers brain needs torch, transformers and peft: install them with "
                'pip install "agentforge_jupyter[train]".'
            ) from exc
        if adapter and not (Path(adapter) / "adapter_config.json").is_file():
            raise BrainConfigError(
                f"No LoRA adapter in {adapter} (adapter_config.json is missing). Was it moved? "
                "Re-register the brain with the adapter's current directory."
            )
        try:
            tokenizer = AutoTokenizer.from_pretrained(base_model)
            # the base model, or a PeftModel wrapping it when there is an adapter
            model: Any = AutoModelForCausalLM.from_pretrained(base_model)
            if adapter:
                from peft import PeftModel

                model = PeftModel.from_pretrained(model, adapter)
        except (OSError, ValueError) as exc:
            raise BrainConfigError(
                f"Cannot load {base_model!r} (adapter {adapter}): {exc}"
            ) from exc
        model.eval()
        _cache[key] = (tokenizer, model)
        return tokenizer, model


class TransformersBrain:
    """Generates with a local model; satisfies the Brain protocol (brains/base.py)."""

    kind = "transformers"

    def __init__(
        self,
        *,
        name: str,
        model: str,
        adapter: str | None = None,
        temperature: float = 0.2,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        allowed_imports: Sequence[str] | None = None,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.model = model
        self.adapter = adapter
        self.temperature = float(temperature)
        self.max_new_tokens = int(max_new_tokens)
        # None: the lint policy's list (brains/prompts.allowed_imports), as for OpenAIBrain.
        self.allowed_imports = tuple(allowed_imports) if allowed_imports is not None else None
        self.seed = seed

    @classmethod
    def from_spec(cls, spec: Any) -> TransformersBrain:
        return cls(
            name=spec.name, model=spec.model, adapter=spec.adapter, temperature=spec.temperature
        )

    def __repr__(self) -> str:
        return (
            f"TransformersBrain(name={self.name!r}, model={self.model!r}, adapter={self.adapter!r})"
        )

    async def ask(self, request: BrainRequest, on_delta: DeltaCallback | None = None) -> BrainReply:
        messages = build_messages(request, imports=self.allowed_imports)
        reply = await self.complete(messages, on_delta=on_delta)
        reply.prompt_hash = prompt_hash(messages)
        return reply

    async def complete(
        self, messages: Sequence[dict[str, str]], *, on_delta: DeltaCallback | None = None
    ) -> BrainReply:
        """Generate the next assistant message, streaming pieces to ``on_delta``."""
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[str | None] = asyncio.Queue()

        def push(text: str | None) -> None:
            loop.call_soon_threadsafe(pieces.put_nowait, text)

        work = asyncio.ensure_future(asyncio.to_thread(self._generate, messages, push))
        text_parts: list[str] = []
        while True:
            piece = await pieces.get()
            if piece is None:
                break
            text_parts.append(piece)
            if on_delta is not None:
                on_delta(piece)
        prompt_tokens, completion_tokens = await work
        text = "".join(text_parts)
        if not text.strip():
            raise BrainReplyError(
                f"Brain {self.name!r} ({self.model}) generated an empty reply; the model may "
                "need more training, or a larger max_new_tokens."
            )
        return BrainReply(
            text=text,
            model=self.name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )

    def _generate(self, messages: Sequence[dict[str, str]], push: Any) -> tuple[int, int]:
        try:
            return self._generate_unsafe(messages, push)
        except BrainError:
            raise
        except Exception as exc:  # torch/transformers failures become a brain error
            raise BrainError(f"Brain {self.name!r} failed to generate: {exc}") from exc
        finally:
            push(None)

    def _generate_unsafe(self, messages: Sequence[dict[str, str]], push: Any) -> tuple[int, int]:
        import torch
        from transformers import TextIteratorStreamer

        tokenizer, model = load_model(self.model, self.adapter)
        ids = tokenizer(prompt_text(tokenizer, messages), return_tensors="pt")["input_ids"]
        window = int(getattr(model.config, "max_position_embeddings", 0) or 0) or int(
            getattr(model.config, "n_positions", 0) or 0
        )
        new_tokens = self.max_new_tokens
        if window:
            new_tokens = max(1, min(new_tokens, window // 2))
            ids = ids[:, -(window - new_tokens) :]  # keep the end: the task is stated last
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        settings: dict[str, Any] = {
            "input_ids": ids,
            "attention_mask": torch.ones_like(ids),
            "max_new_tokens": new_tokens,
            "streamer": streamer,
            "pad_token_id": tokenizer.pad_token_id or tokenizer.eos_token_id or 0,
        }
        if self.temperature > 0:
            settings.update(do_sample=True, temperature=self.temperature)
        else:
            settings["do_sample"] = False
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                torch.manual_seed(self.seed)
                with torch.no_grad():
                    result["output"] = model.generate(**settings)
            except Exception as exc:  # re-raised in the caller's thread
                result["error"] = exc
                streamer.end()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        for piece in streamer:
            if piece:
                push(piece)
        worker.join()
        if "error" in result:
            raise result["error"]
        produced = int(result["output"].shape[-1] - ids.shape[-1])
        return int(ids.shape[-1]), produced
