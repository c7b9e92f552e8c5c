"""Blocking calls for notebook users: a coroutine on AgentForge's background loop thread,
its events delivered to `on_event` in the calling thread, Ctrl-C turned into a cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
from collections.abc import Awaitable, Callable
from typing import Any

from .._loop import background_loop
from .errors import AgentError

__all__ = ["call_sync"]

log = logging.getLogger(__name__)


def call_sync(
    make: Callable[[Any], Awaitable[Any]], on_event: Any, cancel: Callable[[], bool]
) -> Any:
    """Run `make(relay)` on the background loop and wait. `relay` queues events for
    `on_event` (None when there is no callback). Ctrl-C calls `cancel()` (or cancels the
    coroutine), waits for the run to be recorded, then re-raises KeyboardInterrupt."""
    loop = background_loop()
    with contextlib.suppress(RuntimeError):
        if asyncio.get_running_loop() is loop:
            raise AgentError(
                "the sync API cannot be called from AgentForge's own loop thread; await "
                "arun/aplan/aexecute there instead"
            )
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    done = object()
    relay = inbox.put if on_event is not None else None

    async def call() -> Any:
        return await make(relay)

    future = asyncio.run_coroutine_threadsafe(call(), loop)
    future.add_done_callback(lambda _f: inbox.put(done))
    interrupted = False
    while True:
        # Ctrl-C can land anywhere in the pump, so the whole pump is retried.
        try:
            _pump(inbox, done, on_event, future)
            break
        except KeyboardInterrupt:
            interrupted = True
            if not cancel():
                future.cancel()
    if interrupted:
        raise KeyboardInterrupt
    return future.result()


def _pump(inbox: queue.SimpleQueue[Any], done: object, on_event: Any, future: Any) -> None:
    """Deliver relayed events to `on_event` in this thread until `done` arrives (or the future
    is done and nothing is left, in case an interrupt swallowed the `done` marker)."""
    while True:
        try:
            item = inbox.get(timeout=0.25)
        except queue.Empty:
            if future.done():
                return
            continue
        if item is done:
            return
        if on_event is not None:
            try:
                on_event(item)
            except Exception:  # a rendering bug must not stop or lose the run
                log.exception("on_event callback failed on %s #%d", item.type, item.seq)
