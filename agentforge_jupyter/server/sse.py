"""Server-Sent Events: one `id:` line (the record's `seq`) and one `data:` line of JSON per
record, a comment every few seconds to keep idle connections alive, and `Last-Event-ID` (or
`?after=`) to resume after a reconnect without loss or duplicates."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from tornado.iostream import StreamClosedError

from .base import AgentForgeHandler, ApiError

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0
_END = object()


def format_event(record: dict[str, Any]) -> str:
    """One SSE message. json.dumps escapes newlines, so `data:` is always a single line."""
    payload = json.dumps(record, default=str, ensure_ascii=False, separators=(",", ":"))
    return f"id: {int(record['seq'])}\ndata: {payload}\n\n"


def _message(item: dict[str, Any] | str) -> str:
    return item if isinstance(item, str) else format_event(item)


class EventStreamHandler(AgentForgeHandler):
    """Base for the `.../events` endpoints."""

    keepalive_s = KEEPALIVE_S

    def after_seq(self) -> int:
        """The last `seq` the client already has (-1: none). The `Last-Event-ID` header wins
        over `?after=` because a browser's EventSource sets it on every reconnect."""
        raw = self.request.headers.get("Last-Event-ID") or self.get_argument("after", "")
        if raw.strip() == "":
            return -1
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(
                400, f"Last-Event-ID must be an event seq (an integer), not {raw!r}"
            ) from None
        if value < -1:
            raise ApiError(400, f"Last-Event-ID must be -1 or more, not {value}")
        return value

    def start_stream(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")  # no proxy buffering
        # Small writes one after another: without this, Nagle's algorithm holds each one back
        # until the client's delayed ACK (~40 ms on Linux).
        stream = getattr(self.request.connection, "stream", None)
        if stream is not None:
            stream.set_nodelay(True)

    async def send_events(self, records: AsyncIterator[dict[str, Any] | str]) -> None:
        """Write every record (a dict, or an SSE message already formatted) as it comes; return
        when the source ends or the client leaves.

        A pump task reads the source into a queue so that waiting for the next record can time
        out into a keep-alive comment without cancelling the source."""
        queue: asyncio.Queue[Any] = asyncio.Queue()

        async def pump() -> None:
            try:
                async for record in records:
                    queue.put_nowait(record)
            except Exception:
                log.exception("event source failed for %s", self.request.path)
            finally:
                queue.put_nowait(_END)

        task = asyncio.create_task(pump())
        try:
            self.start_stream()
            self.write(": stream open\n\n")
            await self.flush()
            await self._drain(queue)
        except StreamClosedError:
            pass  # the client went away; nothing to answer
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            with contextlib.suppress(Exception):
                self.finish()

    async def _drain(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), self.keepalive_s)
            except asyncio.TimeoutError:
                self.write(": keepalive\n\n")
                await self.flush()
                continue
            if item is _END:
                return
            chunk = [_message(item)]
            while not queue.empty():  # send what is already waiting in one write
                more = queue.get_nowait()
                if more is _END:
                    self.write("".join(chunk))
                    await self.flush()
                    return
                chunk.append(_message(more))
            self.write("".join(chunk))
            await self.flush()
