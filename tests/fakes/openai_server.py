"""A scripted OpenAI-compatible server speaking the real wire protocol (JSON, and SSE over
HTTP/1.1), so tests go through the real ``openai`` client, its retries and its timeouts.
Replies are scripted in a queue; every request is recorded so tests can assert what was sent.

    with FakeOpenAIServer(models=["base", "finance-lora"]) as server:
        server.rate_limit().reply("hello")
        brain = OpenAIBrain(name="t", model="base", base_url=server.base_url)
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .loopback import LoopbackServer, QuietHandler


@dataclass
class Scripted:
    """One scripted answer to a chat completion request."""

    text: str = ""
    status: int = 200
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering: longer than the client's timeout makes a timeout.
    delay: float = 0.0
    # Sent as the body as-is (with status 200 and a JSON content type): a malformed response.
    raw_body: bytes | None = None
    # Streaming only: the connection is cut after this many content chunks.
    disconnect_after: int | None = None
    finish_reason: str | None = "stop"
    # Characters per streamed delta.
    chunk_size: int = 8
    usage: bool = True


Script = Scripted | str | Callable[[dict[str, Any]], "Scripted | str"]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes

    @property
    def stream(self) -> bool:
        return isinstance(self.body, dict) and bool(self.body.get("stream"))

    @property
    def user_text(self) -> str:
        """All message contents joined (for assertions on prompts)."""
        messages = self.body.get("messages", []) if isinstance(self.body, dict) else []
        return "\n".join(str(m.get("content", "")) for m in messages)


class _Handler(QuietHandler):
    fake: FakeOpenAIServer

    # -- routing

    def do_GET(self) -> None:
        self._record(b"", None)
        if self.path.rstrip("/").endswith("/models"):
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                for m in self.fake.models
            ]
            self._json(200, {"object": "list", "data": data})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:
        raw, body = self.read_json()
        self._record(raw, body)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._error(404, f"no route {self.path}")
            return
        if not isinstance(body, dict):
            self._error(400, "body is not a JSON object")
            return
        self._chat(body)

    def _record(self, raw: bytes, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.fake._record(RecordedRequest(self.command, self.path, headers, body, raw))

    # -- chat completions

    def _chat(self, body: dict[str, Any]) -> None:
        fake = self.fake
        stream = bool(body.get("stream"))
        if stream and not fake.streaming_supported:
            self._error(400, "streaming is not supported by this server")
            return
        if stream and "stream_options" in body and not fake.stream_options_supported:
            self._error(400, "unknown field: stream_options")
            return
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema" and not fake.json_schema_supported:
            self._error(400, "response_format json_schema is not supported")
            return
        script = fake._next(body)
        if script is None:
            self._error(400, "FakeOpenAIServer: no scripted reply left in the queue")
            return
        if script.delay:
            fake._sleep(script.delay)
        if script.status != 200:
            self._error(script.status, script.error_message, script.headers)
        elif script.raw_body is not None:
            self._send(200, script.raw_body, "application/json", script.headers)
        elif stream:
            self._stream(body, script)
        else:
            self._json(200, self._completion(body, script), script.headers)

    def _usage(self, body: dict[str, Any], text: str) -> dict[str, int]:
        prompt = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        prompt_tokens = max(1, prompt // 4)
        completion_tokens = max(1, len(text) // 4) if text else 0
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

    def _completion(self, body: dict[str, Any], script: Scripted) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": script.text},
                    "finish_reason": script.finish_reason,
                }
            ],
        }
        if script.usage:
            result["usage"] = self._usage(body, script.text)
        return result

    def _stream(self, body: dict[str, Any], script: Scripted) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for key, value in script.headers.items():
            self.send_header(key, value)
        self.end_headers()
        model = body.get("model", "fake")

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        try:
            self._event(chunk({"role": "assistant", "content": ""}))
            size = max(1, script.chunk_size)
            pieces = [script.text[i : i + size] for i in range(0, len(script.text), size)]
            for number, piece in enumerate(pieces):
                if script.disconnect_after is not None and number >= script.disconnect_after:
                    self._cut()
                    return
                self._event(chunk({"content": piece}))
            self._event(chunk({}, script.finish_reason))
            if script.usage and (body.get("stream_options") or {}).get("include_usage"):
                final = chunk({})
                final["choices"] = []
                final["usage"] = self._usage(body, script.text)
                self._event(final)
            self._write_chunk(b"data: [DONE]\n\n")
            self._write_chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _event(self, data: dict[str, Any]) -> None:
        self._write_chunk(b"data: " + json.dumps(data).encode() + b"\n\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        # Drop the connection mid-body, as a crashed server or a proxy would.
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- plain responses

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        payload = {"error": {"message": message, "type": "fake_error", "code": status}}
        self._json(status, payload, headers)


class FakeOpenAIServer(LoopbackServer):
    """A scripted OpenAI-compatible server on 127.0.0.1 in a background thread."""

    handler_class = _Handler
    url_path = "/v1"

    def __init__(
        self,
        models: Iterable[str] = ("fake-base", "fake-finance-lora"),
        *,
        streaming_supported: bool = True,
        stream_options_supported: bool = True,
        json_schema_supported: bool = True,
    ) -> None:
        self.models = list(models)
        self.streaming_supported = streaming_supported
        self.stream_options_supported = stream_options_supported
        self.json_schema_supported = json_schema_supported
        self.requests: list[RecordedRequest] = []
        self.default: Script | None = None
        self._queue: deque[Script] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # -- lifecycle (start, context manager, base_url: LoopbackServer)

    def stop(self) -> None:
        self._stop.set()  # wakes handlers sleeping in a scripted delay
        super().stop()

    # -- scripting (each returns self, so calls chain)

    def queue(self, *scripts: Script) -> FakeOpenAIServer:
        with self._lock:
            self._queue.extend(scripts)
        return self

    def reply(self, *texts: str, **options: Any) -> FakeOpenAIServer:
        return self.queue(*(Scripted(text=t, **options) for t in texts))

    def fail(self, status: int, message: str = "", **options: Any) -> FakeOpenAIServer:
        return self.queue(
            Scripted(status=status, error_message=message or f"injected HTTP {status}", **options)
        )

    def rate_limit(self, retry_after_s: float = 0.01) -> FakeOpenAIServer:
        # Both headers, as OpenAI sends them; the client prefers the millisecond one.
        ms = max(1, round(retry_after_s * 1000))
        headers = {"retry-after-ms": str(ms), "retry-after": str(max(1, -(-ms // 1000)))}
        return self.fail(429, "Rate limit reached", headers=headers)

    def server_error(self) -> FakeOpenAIServer:
        # retry-after-ms keeps the client's backoff short (its default starts at 0.5 s).
        return self.fail(500, "injected internal error", headers={"retry-after-ms": "10"})

    def hang(self, seconds: float, text: str = "too late") -> FakeOpenAIServer:
        return self.queue(Scripted(text=text, delay=seconds))

    def malformed(self) -> FakeOpenAIServer:
        return self.queue(Scripted(raw_body=b'{"id": "x", "choices": [ {"message": '))

    def empty(self) -> FakeOpenAIServer:
        return self.queue(Scripted(text=""))

    def disconnect(self, text: str, after_chunks: int = 2) -> FakeOpenAIServer:
        return self.queue(Scripted(text=text, disconnect_after=after_chunks, chunk_size=4))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- internals used by the handler

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next(self, body: dict[str, Any]) -> Scripted | None:
        with self._lock:
            script = self._queue.popleft() if self._queue else self.default
        if script is None:
            return None
        if callable(script) and not isinstance(script, Scripted):
            script = script(body)
        return Scripted(text=script) if isinstance(script, str) else script

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)
