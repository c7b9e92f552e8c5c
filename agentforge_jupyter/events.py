"""The agent's event stream: typed, JSON-serialisable, seq-numbered, persisted per run.

Every front end (magic, widgets, CLI, server extension, exporter) is built on these events and
nothing else. A `RunRecorder` numbers each event, appends it to
`state/runs/<run_id>/events.jsonl` before anyone sees it (so a consumer that re-attaches can
always replay what it was shown), then hands it to subscribers. `read_events` and
`follow_events` replay a run from any `seq` (SSE resume, a monitor after a kernel restart).
docs/agent.md lists every type and its payload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from .errors import AgentForgeError
from .state import append_jsonl, read_jsonl

__all__ = [
    "EVENTS_FILE",
    "EVENT_TYPES",
    "FINAL_TYPE",
    "Event",
    "EventConsumer",
    "EventError",
    "EventType",
    "RunRecorder",
    "Subscriber",
    "follow_events",
    "new_run_id",
    "read_events",
]

log = logging.getLogger(__name__)

EVENTS_FILE = "events.jsonl"
FINAL_TYPE = "run_end"

EventType = Literal[
    "run_start",
    "brain_call",
    "plan_delta",
    "plan",
    "step_start",
    "code",
    "lint",
    "output",
    "execution",
    "error",
    "repair",
    "state_lost",
    "observation",
    "step_end",
    "insight",
    "tools",
    "tool_proposal",
    "tool_registered",
    "limit",
    "cancelled",
    "run_end",
]

#: Every event type, with the payload keys it always carries (see docs/agent.md). `emit`
#: refuses an event without them.
EVENT_TYPES: dict[EventType, tuple[str, ...]] = {
    "run_start": ("goal", "dataset", "brain", "brain_kind", "model", "limits", "session_id"),
    "brain_call": ("task", "step", "attempt", "model", "prompt_tokens", "completion_tokens"),
    "plan_delta": ("text", "attempt"),
    "plan": ("plan", "attempt"),
    "step_start": ("step", "index", "total"),
    "code": ("step", "attempt", "code"),
    "lint": ("step", "attempt", "ok", "findings"),
    "output": ("step", "attempt", "kind"),
    "execution": ("step", "attempt", "status", "duration_s", "state_lost", "notes"),
    "error": ("stage", "step", "attempt", "message"),
    "repair": ("step", "attempt", "reason", "error"),
    "state_lost": ("step", "message"),
    "observation": ("step", "status", "output"),
    "step_end": ("step", "status", "attempts", "duration_s"),
    "insight": ("index", "text"),
    "tools": ("tools",),
    "tool_proposal": ("name", "code", "step", "verified", "problem"),
    "tool_registered": ("name", "version"),
    "limit": ("kind", "limit", "used", "message"),
    "cancelled": ("reason",),
    "run_end": ("status", "reason", "duration_s"),
}

if set(EVENT_TYPES) != set(get_args(EventType)):  # pragma: no cover - a broken edit
    raise RuntimeError("EVENT_TYPES and EventType list different event types")

_RESERVED = ("run_id", "seq", "type", "ts")
_HANDLER_PREFIX = "_on_"


class EventError(AgentForgeError):
    """An event could not be built or recorded (an unknown type or a non-JSON payload)."""


def new_run_id(now: float | None = None) -> str:
    """A sortable, unique run id: UTC time plus random hex, e.g. `20261123-221500-ab12cd`."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(3)}"


@dataclass
class Event:
    """One thing that happened in a run. On the wire: `{run_id, seq, type, ts, **data}`.

    `ts` is Unix time in seconds (float). Payload keys are read with `event["key"]` or
    `event.get("key")`.
    """

    run_id: str
    seq: int
    type: str
    ts: float
    data: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "seq": self.seq,
            "type": self.type,
            "ts": self.ts,
            **self.data,
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Event:
        data = {k: v for k, v in record.items() if k not in _RESERVED}
        return cls(
            run_id=str(record["run_id"]),
            seq=int(record["seq"]),
            type=str(record["type"]),
            ts=float(record["ts"]),
            data=data,
        )


Subscriber = Callable[[Event], None]


class _AsyncSubscription:
    """Delivers events to an async iterator on its own loop, from any thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def push(self, event: Event | None) -> None:
        # A closed consumer loop raises RuntimeError: nobody is listening any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)


class RunRecorder:
    """Numbers, persists and publishes the events of one run.

    `emit` may be called from any thread. Subscribers are called synchronously, in order, after
    the event is on disk; a subscriber that raises is logged and kept, so a rendering bug never
    stops or corrupts a run.
    """

    def __init__(self, run_id: str, run_dir: str | os.PathLike[str] | None = None) -> None:
        self.run_id = run_id
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.path = self.run_dir / EVENTS_FILE if self.run_dir is not None else None
        self.events: list[Event] = []
        self.closed = False
        self._lock = threading.RLock()
        self._subscribers: list[Subscriber] = []
        self._streams: list[_AsyncSubscription] = []

    def __repr__(self) -> str:
        return f"RunRecorder({self.run_id!r}, events={len(self.events)})"

    @property
    def next_seq(self) -> int:
        return len(self.events)

    def emit(self, type: EventType, **data: Any) -> Event:
        """Record one event; `seq` counts from 0 in emission order. Raises EventError for an
        unknown type, a missing required payload key, or a payload that sets envelope keys."""
        _check_payload(type, data)
        with self._lock:
            if self.closed:
                raise EventError(f"run {self.run_id} has ended; no more events can be recorded")
            event = Event(self.run_id, len(self.events), type, round(time.time(), 6), data)
            if self.path is not None:
                try:
                    append_jsonl(self.path, event.to_dict())
                except (TypeError, ValueError) as exc:
                    raise EventError(
                        f"event {type!r} has a payload that is not JSON-serialisable: {exc}"
                    ) from exc
            self.events.append(event)
            if type == FINAL_TYPE:
                self.closed = True
            subscribers = list(self._subscribers)
            streams = list(self._streams)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("event subscriber %r failed on %s #%d", callback, type, event.seq)
        for stream in streams:
            stream.push(event)
            if self.closed:
                stream.push(None)
        return event

    def subscribe(self, callback: Subscriber, *, replay: bool = False) -> Callable[[], None]:
        """Call `callback(event)` for every new event (and, with `replay`, the earlier ones
        first). Returns a function that unsubscribes."""
        with self._lock:
            backlog = list(self.events) if replay else []
            self._subscribers.append(callback)
        for event in backlog:
            callback(event)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    async def stream(self, since_seq: int = 0) -> AsyncIterator[Event]:
        """Events with `seq >= since_seq`, earlier ones first, then live ones until `run_end`."""
        subscription = _AsyncSubscription(asyncio.get_running_loop())
        with self._lock:
            backlog = [e for e in self.events if e.seq >= since_seq]
            done = self.closed
            if not done:
                self._streams.append(subscription)
        try:
            for event in backlog:
                yield event
            if done:
                return
            while True:
                live = await subscription.queue.get()
                if live is None:
                    return
                if live.seq >= since_seq:
                    yield live
        finally:
            with self._lock:
                if subscription in self._streams:
                    self._streams.remove(subscription)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.stream()

    def since(self, seq: int) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.seq >= seq]

    def of_type(self, *types: str) -> Iterator[Event]:
        return (e for e in list(self.events) if e.type in types)


def _check_payload(type: str, data: dict[str, Any]) -> None:
    if type not in EVENT_TYPES:
        raise EventError(f"unknown event type {type!r}; known: {', '.join(EVENT_TYPES)}")
    missing = [k for k in EVENT_TYPES[type] if k not in data]
    if missing:
        raise EventError(f"event {type!r} is missing its required payload key(s) {missing}")
    clash = [k for k in _RESERVED if k in data]
    if clash:
        raise EventError(f"event payload may not set {clash}: those keys are the envelope")


class EventConsumer:
    """Base class of anything built from events: `apply(event)` (or calling the consumer)
    dispatches to the method `_on_<type>` when the class has one.

    A subclass that defines `_on_<name>` for a name that is no event type is refused when
    the class is created, so a typo in a handler name fails loudly instead of never running.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        unknown = sorted(
            name
            for name in vars(cls)
            if name.startswith(_HANDLER_PREFIX) and name[len(_HANDLER_PREFIX) :] not in EVENT_TYPES
        )
        if unknown:
            raise EventError(
                f"{cls.__qualname__} handles no such event type: {', '.join(unknown)}. "
                f"Event types: {', '.join(EVENT_TYPES)}"
            )

    @classmethod
    def handled_types(cls) -> list[str]:
        """The event types this consumer has a handler for."""
        return [t for t in EVENT_TYPES if callable(getattr(cls, _HANDLER_PREFIX + t, None))]

    def apply(self, event: Event) -> None:
        handler = getattr(self, _HANDLER_PREFIX + event.type, None)
        if handler is not None:
            handler(event)

    def __call__(self, event: Event) -> None:
        self.apply(event)


def _events_path(run_dir: str | os.PathLike[str]) -> Path:
    path = Path(run_dir)
    return path if path.name == EVENTS_FILE else path / EVENTS_FILE


def read_events(run_dir: str | os.PathLike[str], since_seq: int = 0) -> list[Event]:
    """The persisted events of a run with `seq >= since_seq` (a partial last line, as a crash
    mid-write leaves, and unreadable lines are skipped). `run_dir` may also be the file."""
    result = read_jsonl(_events_path(run_dir))
    events = []
    for record in result.records:
        try:
            event = Event.from_dict(record)
        except (KeyError, TypeError, ValueError):
            log.warning("skipping a malformed event record in %s", run_dir)
            continue
        if event.seq >= since_seq:
            events.append(event)
    return events


async def follow_events(
    run_dir: str | os.PathLike[str], since_seq: int = 0, *, poll_s: float = 0.1
) -> AsyncIterator[Event]:
    """Tail a run's log written by another process: events with `seq >= since_seq` as they are
    appended, ending after `run_end`. Cancel the iteration to stop following earlier."""
    path = _events_path(run_dir)
    offset = 0
    while True:
        result = read_jsonl(path, offset)
        offset = result.next_offset
        for record in result.records:
            try:
                event = Event.from_dict(record)
            except (KeyError, TypeError, ValueError):
                continue
            if event.seq >= since_seq:
                yield event
            if event.type == FINAL_TYPE:
                return
        await asyncio.sleep(poll_s)
