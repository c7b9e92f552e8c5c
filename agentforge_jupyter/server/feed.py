"""A run's events, from whatever thread the run emits them on, to its `Broadcast` on the
server's loop.

The recorder calls `RunFeed` synchronously for every event; the feed files the event and, unless
a hand-over is already pending, schedules one on the server's loop. Everything that arrived by
the time that runs goes out as one batch: a burst of events (a step's outputs, the insights)
costs each subscriber one write.

While someone is subscribed, the run's thread then waits until the server has written the batch
(at most `handover_wait_s`). The run lives in the server's process, and every socket send
releases the GIL: a run busy with its next step would take it back at each of the 20 sends of a
20-subscriber fan-out and hold it for up to a switch interval (5 ms). Waiting costs the run
about one fan-out per batch; it never waits for a subscriber (sends never block), and a stuck
server loop holds it up for `handover_wait_s` at most."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from ..events import FINAL_TYPE, Event, RunRecorder
from .sse import Broadcast, format_event

#: Longest a run waits for the server to write a batch of its events to the subscribers.
HANDOVER_WAIT_S = 0.05


class RunFeed:
    def __init__(
        self, recorder: RunRecorder, broadcast: Broadcast, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.broadcast = broadcast
        self.loop = loop
        self.handover_wait_s = HANDOVER_WAIT_S
        self._lock = threading.Lock()
        self._pending: dict[int, Event] = {}
        self._scheduled = False
        self._handed = threading.Event()
        self._handed.set()
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
            handed = self._handed = threading.Event()
        try:
            self.loop.call_soon_threadsafe(self.flush)
        except RuntimeError:  # the server's loop is closed: nobody listens
            return
        if self.broadcast.subscribed and not self._on_loop():
            handed.wait(self.handover_wait_s)

    def _on_loop(self) -> bool:
        """Whether this is the server's loop (waiting there for itself would only time out)."""
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def flush(self) -> None:
        """On the server's loop: publish every pending event that is next in seq order (two
        threads emitting at once may hand them over out of order; a gap waits for its event)."""
        with self._lock:
            self._scheduled = False
            handed = self._handed
            nxt = len(self.broadcast.messages)
            batch: list[Event] = []
            while nxt in self._pending:
                batch.append(self._pending.pop(nxt))
                nxt += 1
        try:
            if self.broadcast.done or not batch:
                return
            self.broadcast.publish([format_event(e.to_dict()) for e in batch])
        finally:
            handed.set()
        if batch[-1].type == FINAL_TYPE:
            self.stop()

    def stop(self) -> None:
        """No more events will come (the run ended, or the server is stopping)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.broadcast.close()
