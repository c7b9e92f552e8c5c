"""Server-Sent Events: one `id:` line (the record's `seq`) and one `data:` line of JSON per
record, a comment every few seconds to keep idle connections alive, and `Last-Event-ID` (or
`?after=`) to resume after a reconnect without loss or duplicates.

Two sources: an async iterator of records (runs written by another process, training jobs),
and a `Broadcast` (runs executing in this server), which writes each new message to every
subscriber's connection in the same loop callback: no task per subscriber sits between an
event and the socket, so 20 subscribers cost little more than one."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from tornado.iostream import IOStream, SSLIOStream, StreamBufferFullError, StreamClosedError

from .base import AgentForgeHandler, ApiError

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0
#: Bytes a subscriber may leave unread before it is disconnected (it can resume with
#: Last-Event-ID). Far more than a run writes; it only bounds a client that never reads.
MAX_UNREAD_BYTES = 32 * 1024 * 1024
_END = object()


def format_event(record: dict[str, Any]) -> str:
    """One SSE message. json.dumps escapes newlines, so `data:` is always a single line."""
    payload = json.dumps(record, default=str, ensure_ascii=False, separators=(",", ":"))
    return f"id: {int(record['seq'])}\ndata: {payload}\n\n"


class Payload(bytes):
    """One batch's bytes for every subscriber, with its HTTP/1.1 chunk framing made once (a
    batch with a chart is tens of KiB: framing it per subscriber copied it 20 times)."""

    @functools.cached_property
    def chunked(self) -> bytes:
        return _chunk(self)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


class Sink(Protocol):
    def push(self, data: bytes) -> None: ...
    def end(self) -> None: ...


class Broadcast:
    """One run's events as SSE messages (index == seq), formatted once, for any number of
    subscribers on the server's loop. `publish` and `close` must be called on that loop."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.done = False
        self._sinks: list[Sink] = []

    def publish(self, messages: list[str]) -> None:
        """Append `messages` (the next seqs, in order) and write them to every subscriber, all
        in one write each."""
        if not messages:
            return
        self.messages.extend(messages)
        data = Payload("".join(messages).encode("utf-8"))  # once, for every subscriber
        for sink in list(self._sinks):  # a sink may detach itself while being written
            sink.push(data)

    @property
    def subscribed(self) -> bool:
        """Whether anyone follows the run (read from the run's thread: a list's truth value)."""
        return bool(self._sinks)

    def close(self) -> None:
        """No more messages: every subscriber's stream ends."""
        self.done = True
        sinks, self._sinks = self._sinks, []
        for sink in sinks:
            sink.end()

    def attach(self, sink: Sink, after_seq: int = -1) -> None:
        """Give `sink` every message after `after_seq` now, then each new one as it comes."""
        backlog = self.messages[after_seq + 1 :]
        if backlog:
            sink.push("".join(backlog).encode("utf-8"))
        if self.done:
            sink.end()
        else:
            self._sinks.append(sink)

    def detach(self, sink: Sink) -> None:
        with contextlib.suppress(ValueError):
            self._sinks.remove(sink)


def _send_now(stream: IOStream, frame: bytes) -> int:
    """Bytes of `frame` the socket takes at once (0 when it would block). Skips the Future and
    the loop callbacks of `IOStream.write`, which with many subscribers are most of the cost;
    only used while the stream has nothing queued, so the order of bytes is kept."""
    try:
        return stream.socket.send(frame)
    except (BlockingIOError, InterruptedError):
        return 0
    except OSError as exc:
        raise StreamClosedError(real_error=exc) from exc


class _HandlerSink:
    """Writes straight to one subscriber's socket stream, without waiting for the write to
    complete: the socket and tornado's write buffer absorb a slow reader, and one that leaves
    more than MAX_UNREAD_BYTES unread is disconnected instead of holding anything up.

    The stream's HTTP/1.1 chunked framing is done here (the handler declares it in its headers,
    so tornado does not add its own): one `IOStream.write` per batch and subscriber is the
    whole cost of a subscriber."""

    def __init__(self, handler: EventStreamHandler, stream: IOStream, chunked: bool) -> None:
        self.handler = handler
        self.stream = stream
        self.chunked = chunked
        self.direct = not isinstance(stream, SSLIOStream)  # TLS: tornado's own write path
        self.ended = asyncio.Event()
        self.last_write = time.monotonic()

    def push(self, data: bytes) -> None:
        if self.ended.is_set():
            return
        if self.stream.closed():
            self.end()
            return
        if self.chunked:
            frame = data.chunked if isinstance(data, Payload) else _chunk(data)
        else:
            frame = data
        try:
            if self.direct and not self.stream.writing():  # nothing queued: the socket first
                frame = frame[_send_now(self.stream, frame) :]
            if frame:
                self.stream.write(frame)
        except StreamBufferFullError:
            log.warning("closing an event stream whose client does not read: %s", self.handler)
            self.stream.close()
            self.end()
        except StreamClosedError:
            self.end()
        else:
            self.last_write = time.monotonic()

    def finish(self) -> None:
        """The end of the body (tornado closes the connection or keeps it after this)."""
        if self.chunked and not self.stream.closed():
            with contextlib.suppress(StreamClosedError, StreamBufferFullError):
                self.stream.write(b"0\r\n\r\n")
        self.end()

    def end(self) -> None:
        self.ended.set()


class EventStreamHandler(AgentForgeHandler):
    """Base for the `.../events` endpoints."""

    keepalive_s = KEEPALIVE_S
    _sink: _HandlerSink | None = None

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
            stream.max_write_buffer_size = MAX_UNREAD_BYTES

    def on_connection_close(self) -> None:
        if self._sink is not None:
            self._sink.end()

    async def send_broadcast(self, broadcast: Broadcast, after_seq: int) -> None:
        """Stream `broadcast` from after `after_seq` until it closes or the client leaves."""
        self.start_stream()
        chunked = self.request.version == "HTTP/1.1"
        if chunked:  # framed by the sink; tornado then leaves the body as it is
            self.set_header("Transfer-Encoding", "chunked")
        stream = self.request.connection.stream  # type: ignore[union-attr]
        self._sink = sink = _HandlerSink(self, stream, chunked)
        try:
            await self.flush()  # the headers
            sink.push(b": stream open\n\n")
            broadcast.attach(sink, after_seq)
            while not sink.ended.is_set():
                idle = time.monotonic() - sink.last_write
                if idle >= self.keepalive_s:
                    sink.push(b": keepalive\n\n")
                    continue
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(sink.ended.wait(), self.keepalive_s - idle)
        except StreamClosedError:
            pass  # the client went away; nothing to answer
        finally:
            broadcast.detach(sink)
            sink.finish()
            with contextlib.suppress(Exception):
                self.finish()

    async def send_events(self, records: AsyncIterator[dict[str, Any]]) -> None:
        """Write every record as it comes; return
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
            chunk = [format_event(item)]
            while not queue.empty():  # send what is already waiting in one write
                more = queue.get_nowait()
                if more is _END:
                    self.write("".join(chunk))
                    await self.flush()
                    return
                chunk.append(format_event(more))
            self.write("".join(chunk))
            await self.flush()
