"""vLLM's OpenAI-compatible server with runtime LoRA loading, on loopback."""

from __future__ import annotations

from typing import Any

from .openai_server import FakeOpenAIServer, _Handler


class _VLLMHandler(_Handler):
    fake: FakeVLLMServer

    def do_POST(self) -> None:
        if not self.path.rstrip("/").endswith("/load_lora_adapter"):
            super().do_POST()
            return
        raw, body = self.read_json()
        body = body if isinstance(body, dict) else {}
        self._record(raw, body)
        fake = self.fake
        if not fake.runtime_lora:
            self._send(404, b'{"detail":"Not Found"}', "application/json")
            return
        name, path = body.get("lora_name"), body.get("lora_path")
        if not name or not path:
            self._error(400, "lora_name and lora_path are required")
        elif name in fake.loaded:
            self._error(400, f"The lora adapter '{name}' has already been loaded.")
        else:
            fake.loaded[name] = path
            fake.models.append(name)
            body_text = f"Success: LoRA adapter '{name}' added successfully."
            self._send(200, body_text.encode(), "text/plain")


class FakeVLLMServer(FakeOpenAIServer):
    """FakeOpenAIServer plus vLLM's runtime LoRA routes (``/v1/load_lora_adapter``).

    ``runtime_lora=False`` answers 404 there, as vLLM does without
    ``VLLM_ALLOW_RUNTIME_LORA_UPDATING``. Loaded adapters appear in ``/v1/models``.
    """

    handler_class = _VLLMHandler

    def __init__(self, *args: Any, runtime_lora: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runtime_lora = runtime_lora
        self.loaded: dict[str, str] = {}
