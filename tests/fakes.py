"""Shared test fakes: an OpenAI-compatible HTTP server on loopback, and a queued brain.

``FakeOpenAIServer`` speaks the real wire protocol (JSON and SSE over HTTP/1.1) so tests go
through the real ``openai`` client, its retries and its timeouts. Replies are scripted in a
queue; every request is recorded so tests can assert what was sent.

    with FakeOpenAIServer(models=["base", "finance-lora"]) as server:
        server.rate_limit().reply("hello")
        brain = OpenAIBrain(name="t", model="base", base_url=server.base_url)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd

from agentforge_jupyter.brains.base import BrainReply, BrainRequest, DeltaCallback

__all__ = [
    "FRAME",
    "FakeOpenAIServer",
    "FakeRunPodServer",
    "FakeVLLMServer",
    "QueueExhaustedError",
    "QueuedBrain",
    "RecordedRequest",
    "Scripted",
    "build_tiny_model",
    "code",
    "http_brain",
    "plan_json",
    "wait_for_event",
]


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


class FakeOpenAIServer:
    """A scripted OpenAI-compatible server on 127.0.0.1 in a background thread."""

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
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def start(self) -> FakeOpenAIServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY a keep-alive client
    # waits ~40 ms for each reply (Nagle's algorithm against delayed ACKs).
    disable_nagle_algorithm = True
    fake: FakeOpenAIServer

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return

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
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
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

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _send(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


# --------------------------------------------------------------------------- agent runs

#: A small frame the agent tests analyse (sent to the sandbox as Parquet).
FRAME = pd.DataFrame({"region": ["N", "S", "N", "E"], "revenue": [10.0, 20.0, 30.0, 5.0]})


def plan_json(*titles: str) -> str:
    """A plan reply with one step per title (ids s1, s2, ...)."""
    steps = [
        {"id": f"s{i}", "title": t, "rationale": "r", "expected": "e"}
        for i, t in enumerate(titles, start=1)
    ]
    return json.dumps({"goal": "g", "steps": steps})


def code(source: str) -> str:
    """A code reply: prose, then ``source`` in a python fence."""
    return f"Here you go:\n```python\n{source}\n```\n"


def http_brain(server: FakeOpenAIServer, **options: Any) -> Any:
    """A real OpenAIBrain talking to ``server`` (key from $AGENTFORGE_TEST_KEY)."""
    from agentforge_jupyter.brains.openai_brain import OpenAIBrain

    settings = {"timeout": 5.0, "retries": 2, **options, "api_key_env": "AGENTFORGE_TEST_KEY"}
    return OpenAIBrain(name="fake-http", model="base", base_url=server.base_url, **settings)


async def wait_for_event(agent: Any, kind: str, timeout: float = 30.0) -> None:
    """Wait until the agent's newest run has emitted an event of type ``kind``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = agent.last_run
        if run is not None and any(e.type == kind for e in run.events):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {kind} event within {timeout} s")


# --------------------------------------------------------------------------- queued brain


class QueueExhaustedError(AssertionError):
    """A QueuedBrain was asked more often than replies were queued: a broken test script, not
    a brain failure. Not a BrainError, so the agent does not turn it into a failed run; it
    propagates (after the run is recorded) and fails the test."""


Reply = str | BaseException | Callable[[BrainRequest], "str | BrainReply"]


class QueuedBrain:
    """A Brain answering from a queue of strings, callables of the request, or exceptions.

    Records every request in ``requests``. Replies are streamed to ``on_delta`` in chunks of
    ``chunk_size`` characters; ``latency`` (seconds) is awaited before answering.
    """

    kind = "queued"

    def __init__(
        self,
        replies: Iterable[Reply] = (),
        *,
        name: str = "queued",
        model: str = "queued-model",
        chunk_size: int = 16,
        latency: float = 0.0,
    ) -> None:
        self.name = name
        self.model = model
        self.chunk_size = chunk_size
        self.latency = latency
        self.replies: deque[Reply] = deque(replies)
        self.requests: list[BrainRequest] = []

    def queue(self, *replies: Reply) -> QueuedBrain:
        self.replies.extend(replies)
        return self

    @property
    def tasks(self) -> list[str]:
        return [r.task for r in self.requests]

    async def ask(self, request: BrainRequest, on_delta: DeltaCallback | None = None) -> BrainReply:
        self.requests.append(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        if not self.replies:
            raise QueueExhaustedError(
                f"QueuedBrain {self.name!r} has no reply queued for task {request.task!r} "
                f"(request {len(self.requests)})."
            )
        item = self.replies.popleft()
        if isinstance(item, BaseException):
            raise item
        answer = item(request) if callable(item) else item
        reply = (
            answer
            if isinstance(answer, BrainReply)
            else BrainReply(
                text=answer,
                model=self.model,
                prompt_tokens=max(1, len(request.goal) // 4),
                completion_tokens=max(1, len(answer) // 4),
            )
        )
        if on_delta is not None:
            size = max(1, self.chunk_size)
            for start in range(0, len(reply.text), size):
                on_delta(reply.text[start : start + size])
        return reply


# =========================================================================== training fakes
# (training branch) A tiny causal LM built from a config, a vLLM server that loads LoRA
# adapters at run time, and RunPod's hosted serverless API running the real worker handler.


def build_tiny_model(directory: Any, texts: Iterable[str], *, seed: int = 0) -> str:
    """A 2-layer Llama (hidden size 32, random weights) with a byte-level BPE tokenizer trained
    in memory on ``texts``, saved to ``directory``; nothing is downloaded."""
    from pathlib import Path

    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    core = Tokenizer(models.BPE(unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<unk>", "<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(list(texts), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
    )
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


class FakeVLLMServer(FakeOpenAIServer):
    """FakeOpenAIServer plus vLLM's runtime LoRA routes (``/v1/load_lora_adapter``).

    ``runtime_lora=False`` answers 404 there, as vLLM does without
    ``VLLM_ALLOW_RUNTIME_LORA_UPDATING``. Loaded adapters appear in ``/v1/models``.
    """

    def __init__(self, *args: Any, runtime_lora: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.runtime_lora = runtime_lora
        self.loaded: dict[str, str] = {}

    def start(self) -> FakeVLLMServer:
        handler = type("Handler", (_VLLMHandler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="fake-vllm", daemon=True
        )
        self._thread.start()
        return self


class _VLLMHandler(_Handler):
    fake: FakeVLLMServer

    def do_POST(self) -> None:
        if not self.path.rstrip("/").endswith("/load_lora_adapter"):
            super().do_POST()
            return
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        body = json.loads(raw) if raw else {}
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


class FakeRunPodServer:
    """RunPod's hosted serverless API (``/v2/{endpoint}/run``, ``status/{id}``,
    ``stream/{id}``, ``cancel/{id}``, ``health``) on loopback, with the hosted response
    shapes, running a real generator ``handler`` in a thread per job.

    Injected failures: ``api_key`` mismatch answers 401; ``rate_limit(n)`` answers the next n
    requests with 429; ``time_out_after`` (outputs) marks a job TIMED_OUT; a handler that
    raises marks it FAILED with the error text, as the RunPod worker does.
    """

    def __init__(
        self,
        handler: Callable[[dict[str, Any]], Any],
        *,
        endpoint_id: str = "fake-endpoint",
        api_key: str = "rpa_fake_key",
        time_out_after: int | None = None,
        output_delay: float = 0.0,
    ) -> None:
        self.handler = handler
        self.endpoint_id = endpoint_id
        self.api_key = api_key
        self.time_out_after = time_out_after
        self.output_delay = output_delay
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.nonempty_streams = 0
        self._rate_limited = 0
        self._lock = threading.Lock()
        self._counter = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeRunPodServer:
        handler = type("Handler", (_RunPodHandler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="fake-runpod", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            for job in self.jobs.values():
                job["cancel"].set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeRunPodServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What RUNPOD_ENDPOINT_BASE_URL is set to (the SDK appends /{endpoint}/...)."""
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v2"

    def rate_limit(self, count: int) -> FakeRunPodServer:
        with self._lock:
            self._rate_limited = count
        return self

    def _take_rate_limit(self) -> bool:
        with self._lock:
            if self._rate_limited > 0:
                self._rate_limited -= 1
                return True
            return False

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        import uuid

        with self._lock:
            self._counter += 1
            job_id = f"fake-{self._counter}-{uuid.uuid4().hex[:8]}"
            job = {
                "id": job_id,
                "status": "IN_QUEUE",
                "input": body.get("input"),
                "pending": [],
                "outputs": [],
                "error": None,
                "cancel": threading.Event(),
                "submitted": time.time(),
            }
            self.jobs[job_id] = job
        threading.Thread(target=self._work, args=(job,), daemon=True).start()
        return {"id": job_id, "status": "IN_QUEUE"}

    def _work(self, job: dict[str, Any]) -> None:
        with self._lock:
            if job["status"] == "CANCELLED":
                return
            job["status"] = "IN_PROGRESS"
        gen = self.handler({"id": job["id"], "input": job["input"]})
        final = "COMPLETED"
        try:
            for output in gen:
                if job["cancel"].is_set():
                    return
                if isinstance(output, dict) and output.get("error"):
                    # As the RunPod worker does: an error output fails the job, unstreamed.
                    final = "FAILED"
                    job["error"] = str(output["error"])
                    return
                if self.output_delay:
                    time.sleep(self.output_delay)
                with self._lock:
                    job["pending"].append({"output": output})
                    job["outputs"].append(output)
                    count = len(job["outputs"])
                if self.time_out_after is not None and count >= self.time_out_after:
                    final = "TIMED_OUT"
                    return
        except Exception as exc:  # the RunPod worker reports a raising handler as FAILED
            final = "FAILED"
            job["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            with contextlib.suppress(Exception):
                gen.close()
            with self._lock:
                if job["status"] != "CANCELLED":
                    job["status"] = final

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None:
                return None
            if job["status"] in ("IN_QUEUE", "IN_PROGRESS"):
                job["status"] = "CANCELLED"
            job["cancel"].set()
            return {"id": job_id, "status": job["status"]}

    def status_of(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None:
                return None
            answer = {
                "id": job_id,
                "status": job["status"],
                "delayTime": 1,
                "executionTime": int((time.time() - job["submitted"]) * 1000),
                "workerId": "fake-worker",
            }
            if job["status"] == "COMPLETED":
                answer["output"] = list(job["outputs"])
            if job["error"]:
                answer["error"] = job["error"]
            return answer

    def stream_of(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None:
                return None
            chunks, job["pending"] = job["pending"], []
            if chunks:
                self.nonempty_streams += 1
            return {"status": job["status"], "stream": chunks}

    def health(self) -> dict[str, Any]:
        with self._lock:
            states = [j["status"] for j in self.jobs.values()]
        return {
            "jobs": {
                "completed": states.count("COMPLETED"),
                "failed": states.count("FAILED"),
                "inProgress": states.count("IN_PROGRESS"),
                "inQueue": states.count("IN_QUEUE"),
                "retried": 0,
            },
            "workers": {"idle": 1, "running": states.count("IN_PROGRESS")},
        }


class _RunPodHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    fake: FakeRunPodServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._route("GET", None)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._route("POST", body)

    def _route(self, method: str, body: Any) -> None:
        fake = self.fake
        fake.requests.append((method, self.path))
        if self.headers.get("authorization") != f"Bearer {fake.api_key}":
            self._json(401, {"error": "Unauthorized"})
            return
        if fake._take_rate_limit():
            self._json(429, {"error": "rate limited"}, {"Retry-After": "1"})
            return
        parts = self.path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != "v2" or parts[1] != fake.endpoint_id:
            self._json(404, {"error": f"no route {self.path}"})
            return
        answer = self._answer(method, parts[2:], body)
        if answer is None:
            self._json(404, {"error": f"no job or route {self.path}"})
        else:
            self._json(200, answer)

    def _answer(self, method: str, rest: list[str], body: Any) -> dict[str, Any] | None:
        fake = self.fake
        if method == "POST" and rest == ["run"]:
            if not isinstance(body, dict) or "input" not in body:
                return {"error": "the request needs an input"}
            return fake.submit(body)
        if method == "GET" and rest == ["health"]:
            return fake.health()
        if len(rest) != 2:
            return None
        route, job_id = rest
        if method == "GET" and route == "status":
            return fake.status_of(job_id)
        if method == "GET" and route == "stream":
            return fake.stream_of(job_id)
        if method == "POST" and route == "cancel":
            return fake.cancel(job_id)
        return None

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
