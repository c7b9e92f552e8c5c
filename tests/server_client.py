"""A small Server-Sent Events client for the server-extension tests and the benchmark: real
HTTP over loopback with tornado's client, records parsed as they stream in."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest


@dataclass
class SseRecord:
    id: int | None
    data: dict[str, Any]
    received: float  # time.time() when the record's last line arrived


@dataclass
class SseStream:
    records: list[SseRecord] = field(default_factory=list)
    comments: int = 0
    status: int = 0
    content_type: str = ""
    _buffer: str = ""

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk.decode("utf-8")
        while "\n\n" in self._buffer:
            block, self._buffer = self._buffer.split("\n\n", 1)
            self._message(block)

    def _message(self, block: str) -> None:
        ident: int | None = None
        data: list[str] = []
        for line in block.split("\n"):
            if line.startswith(":"):
                self.comments += 1
            elif line.startswith("id:"):
                ident = int(line[3:].strip())
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            self.records.append(SseRecord(ident, json.loads("\n".join(data)), time.time()))

    @property
    def ids(self) -> list[int | None]:
        return [r.id for r in self.records]

    @property
    def types(self) -> list[str]:
        return [r.data.get("type", "") for r in self.records]


async def read_sse(
    url: str,
    headers: dict[str, str] | None = None,
    *,
    timeout: float = 120.0,
    stream: SseStream | None = None,
) -> SseStream:
    """GET `url` and parse its event stream until the server ends it."""
    stream = stream or SseStream()

    def on_header(line: str) -> None:
        if line.startswith("HTTP/"):
            stream.status = int(line.split()[1])
        elif line.lower().startswith("content-type:"):
            stream.content_type = line.split(":", 1)[1].strip()

    request = HTTPRequest(
        url,
        headers=headers or {},
        request_timeout=timeout,
        streaming_callback=stream.feed,
        header_callback=on_header,
    )
    await AsyncHTTPClient().fetch(request, raise_error=False)
    return stream
