"""A run's events, from whatever thread the run emits them on, to its `Broadcast` on the
server's loop.

The recorder calls `RunFeed` synchronously for every event; the feed only files the event and,
unless a hand-over is already pending, schedules one on the server's loop. Everything that
arrived by the time that runs goes out as one batch: a burst of events (a step's outputs, the
insights) costs each subscriber one write, and the run never waits for the server or for any
subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

from ..events import FINAL_TYPE, Event, RunRecorder
from .sse import Broadcast, format_event


class RunFeed:
    def __init__(
        self, recorder: RunRecorder, broadcast: Broadcast, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.broadcast = broadcast
        self.loop = loop
        self._lock = threading.Lock()
        self._pending: dict[int, Event] = {}
        self._scheduled = False
        # With replay: the events emitted before this subscription come first (by seq).
        self._unsubscribe: Callable[[], None] | None = recorder.subscribe(
            self._on_event, replay=True
        )

    def _on_event(self, event: Event) -> None:
        """Called by the recorder, on the thread that emitted `event`."""
        with self._lock:
            self._pending[event.seq] = event
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # the server's loop is closed: nobody listens
            self.loop.call_soon_threadsafe(self.flush)

    def flush(self) -> None:
        """On the server's loop: publish every pending event that is next in seq order (two
        threads emitting at once may hand them over out of order; a gap waits for its event)."""
        with self._lock:
            self._scheduled = False
            nxt = len(self.broadcast.messages)
            batch: list[Event] = []
            while nxt in self._pending:
                batch.append(self._pending.pop(nxt))
                nxt += 1
        if self.broadcast.done or not batch:
            return
        self.broadcast.publish([format_event(e.to_dict()) for e in batch])
        if batch[-1].type == FINAL_TYPE:
            self.stop()

    def stop(self) -> None:
        """No more events will come (the run ended, or the server is stopping)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.broadcast.close()
