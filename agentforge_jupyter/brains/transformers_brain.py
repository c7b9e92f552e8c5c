"""A brain that generates locally with ``transformers``: a base model plus an optional LoRA adapter.

This is how a specialist trained by ``agentforge train`` is used at once, on CPU or GPU, without
a server. Prompts are built exactly as for the OpenAI-compatible brains (brains/prompts.py) and
rendered with the tokenizer's chat template, or the same fallback template the trainer used
(training/chat_format.py). Models are loaded once per (base, adapter) and shared; generation
runs in a thread and streams text pieces back to the event loop.

Only safetensors weights are loaded, never pickle (``pytorch_model.bin``, ``adapter_model.bin``):
unpickling runs code, and these files may come with a shared state directory. transformers
5.x already unpickles ``.bin`` with torch's restricted ``weights_only`` loader, but that loader
has had bypasses (CVE-2025-32434), and its error tells the user to retry with
``weights_only=False``. Model code from a repository (``auto_map``) is never run either.
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

__all__ = [
    "PickleWeightsError",
    "TransformersBrain",
    "check_spec",
    "is_local_model",
    "load_model",
]

DEFAULT_MAX_NEW_TOKENS = 512
# What transformers and peft would unpickle when no safetensors file is there.
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
_SAFE_MODEL_FILES = ("model.safetensors", "model.safetensors.index.json")
_SAFE_ADAPTER_FILE = "adapter_model.safetensors"
_cache: dict[tuple[str, str | None], tuple[Any, Any]] = {}
_cache_lock = threading.Lock()


def check_spec(spec: Any) -> None:
    """Validate a registry spec of kind "transformers" (called by BrainSpec.validated)."""
    if not spec.model:
        raise BrainConfigError(
            f"Brain {spec.name!r} of kind transformers needs a model: the base model's Hugging "
            "Face id or local directory."
        )
    if spec.base_url or spec.endpoint_id or spec.api_key_env:
        raise BrainConfigError(
            f"Brain {spec.name!r}: a transformers brain runs locally; leave base_url, "
            "endpoint_id and api_key_env unset."
        )
    spec.adapter = (str(spec.adapter).strip() or None) if spec.adapter else None
    if spec.adapter:
        spec.adapter = str(Path(spec.adapter).expanduser().absolute())
    if is_local_model(spec.model):
        # A directory is named by its absolute path, so an approval (which covers this string)
        # never follows a relative path to other files from another working directory.
        spec.model = str(Path(spec.model).expanduser().absolute())
    if spec.provenance is not None and not isinstance(spec.provenance, dict):
        raise BrainConfigError(f"Brain {spec.name!r}: provenance must be an object.")


def is_local_model(model: str) -> bool:
    """True when ``model`` names a directory here rather than a Hugging Face Hub id."""
    return model.startswith(("/", "./", "../", "~")) or Path(model).expanduser().is_dir()


class PickleWeightsError(BrainConfigError):
    """A model or adapter directory holds its weights only as pickle files."""


def _pickle_files(directory: Path) -> list[str]:
    try:
        return sorted(p.name for p in directory.iterdir() if p.suffix in _PICKLE_SUFFIXES)
    except OSError:
        return []


def _refuse_pickle(directory: Path, safe_names: tuple[str, ...], what: str) -> None:
    """Raise when ``directory`` has pickle weights and no safetensors file to use instead."""
    if any((directory / name).is_file() for name in safe_names):
        return
    pickled = _pickle_files(directory)
    if pickled:
        raise PickleWeightsError(
            f"The {what} in {directory} has its weights only as pickle files "
            f"({', '.join(pickled)}), and loading a pickle can run any code on this machine, so "
            "AgentForge loads only safetensors weights. If you trust where these files came "
            "from, convert them once to safetensors (load them with transformers or peft and "
            "call save_pretrained(DIR), which writes model.safetensors or "
            "adapter_model.safetensors); otherwise ask their author for safetensors files."
        )


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
        if Path(base_model).is_dir():
            _refuse_pickle(Path(base_model), _SAFE_MODEL_FILES, "model")
        if adapter:
            _refuse_pickle(Path(adapter), (_SAFE_ADAPTER_FILE,), "LoRA adapter")
        try:
            tokenizer = AutoTokenizer.from_pretrained(base_model, trust_remote_code=False)
            # the base model, or a PeftModel wrapping it when there is an adapter;
            # use_safetensors=True: a Hub repository (or directory) without them is refused
            model: Any = AutoModelForCausalLM.from_pretrained(
                base_model, use_safetensors=True, trust_remote_code=False
            )
            if adapter:
                from peft import PeftModel

                # peft takes adapter_model.safetensors when it exists (checked above)
                model = PeftModel.from_pretrained(model, adapter)
        except (OSError, ValueError) as exc:
            raise _load_error(base_model, adapter, exc) from exc
        model.eval()
        _cache[key] = (tokenizer, model)
        return tokenizer, model


def _load_error(base_model: str, adapter: str | None, exc: Exception) -> BrainConfigError:
    if "safetensors" in str(exc) and not Path(base_model).is_dir():
        # A Hub repository (or its cached snapshot) without safetensors: transformers' own
        # message would advise dropping use_safetensors, i.e. unpickling.
        return PickleWeightsError(
            f"The Hugging Face Hub model {base_model!r} has no safetensors weights here, and "
            "AgentForge loads only safetensors (loading a pickle can run any code on this "
            "machine). Use a revision or copy of the model that ships model.safetensors, or, if "
            "you trust its author, convert it once (load it with transformers, then "
            "save_pretrained(DIR)) and name that directory as the brain's model."
        )
    return BrainConfigError(f"Cannot load {base_model!r} (adapter {adapter}): {exc}")


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
