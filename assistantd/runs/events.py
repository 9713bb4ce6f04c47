"""Run events: what happens to a run, published as it happens, for streaming consumers.

The engine publishes every event of SEMANTICS.md §8 (``thread.run.*``, ``thread.run.step.*``,
``thread.message.*``) with its wire payload. A consumer (the SSE endpoint) subscribes by run id
and receives, in order, each event with a per-run sequence number. Events of a run are kept
until a while after it ends, so a subscriber that arrives late (it learns the run id only from
the create response) still sees them from the start, or from ``after_seq``.

``InProcessRunEvents`` suits one server process (the embedded default); ``RedisRunEvents``
(``redis_events.py``) shares every run's events between processes through Redis streams. Both
hand events to local subscribers through the same ``Channel``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from assistantd.wire import sse

# Run statuses after which a run publishes nothing more (until it is resumed by a submit).
TERMINAL_EVENTS = frozenset(
    {
        "thread.run.completed",
        "thread.run.incomplete",
        "thread.run.failed",
        "thread.run.cancelled",
        "thread.run.expired",
    }
)
# The events after which a stream closes (a submit_tool_outputs stream continues the run).
CLOSING_EVENTS = TERMINAL_EVENTS | {"thread.run.requires_action"}
# How long a finished run's events stay available to late subscribers.
RETAIN_SECONDS = 60.0


@dataclass(slots=True)
class RunEvent:
    seq: int  # 1, 2, 3… per run, in publishing order
    event: str  # e.g. "thread.message.delta"
    data: dict[str, Any]  # the wire payload
    # Its SSE frame, encoded by the first stream that sends it (as its run's ``include[]``
    # shows it) and reused by every other one.
    frame: bytes | None = None


# What a run's history holds: an event, or its SSE frame alone when that is the same for every
# subscriber and closes no stream (see ``publish``).
Held = RunEvent | bytes


def same_for_every_include(data: dict[str, Any]) -> bool:
    """Whether the payload is sent the same whatever the run's ``include[]``: all but a tool
    step with file_search calls, whose results' contents only ``include[]`` shows (the rule of
    ``objects.steps.for_wire``, which the stream applies to the others)."""
    if data.get("object") != "thread.run.step" or data.get("type") != "tool_calls":
        return True
    calls = data["step_details"]["tool_calls"]
    return not any(call.get("type") == "file_search" for call in calls)


def as_event(held: Held) -> RunEvent:
    """A held delta as a RunEvent again (its seq, name and payload read back from its frame)."""
    if isinstance(held, RunEvent):
        return held
    head, data = held.split(b"\ndata: ", 1)
    seq, event = head.split(b"\n", 1)
    return RunEvent(int(seq[4:]), event[7:].decode(), orjson.loads(data), held)


class Subscription(Protocol):
    """One consumer's place in a run's events: it takes what has come since it last took, and
    waits for more without a timer or a queue per event (a token's event wakes each waiting
    consumer once, whatever it does next)."""

    def take(self) -> list[Held]:
        """Every event published since the last ``take`` (or after ``after_seq``), at once;
        those that look the same to every subscriber as their SSE frame (``bytes``)."""
        ...

    def ended(self) -> bool:
        """Whether the run's newest event is terminal (joined after the end: nothing more will
        come)."""
        ...

    async def wait(self) -> None:
        """Until an event arrives, or ``wake`` is called; returns at once if one is waiting."""
        ...

    def wake(self) -> None:
        """End a ``wait`` early (a client went away, a keep-alive is due)."""
        ...

    def close(self) -> None: ...


class RunEvents(Protocol):
    def publish(self, run_id: str, event: str, data: dict[str, Any]) -> None:
        """Record and deliver one event; never blocks."""
        ...

    def open(self, run_id: str, after_seq: int = 0) -> Subscription:
        """A subscription to the run's events with ``seq > after_seq``: those already
        published, then live ones. Close it when done."""
        ...

    def subscribe(self, run_id: str, after_seq: int = 0) -> AsyncIterator[RunEvent]:
        """The run's events with ``seq > after_seq``: those already published, then live ones.
        Ends after a terminal ``thread.run.*`` event; a consumer that stops at
        ``thread.run.requires_action`` simply stops iterating."""
        ...

    async def last_seq(self, run_id: str) -> int:
        """The newest event's sequence number; 0 when none is held for the run."""
        ...

    async def flush(self) -> None:
        """Until every event this process has published is visible to every process (before
        handing a run to a worker that may be elsewhere, so its events follow these)."""
        ...

    def end_streams(self) -> None:
        """Shutting down: every open subscription ends after what it holds (its stream then
        sends ``done`` and closes cleanly, instead of being cut when the server exits)."""
        ...

    async def close(self) -> None: ...


def held(seq: int, event: str, data: dict[str, Any]) -> Held:
    """How a run's history holds one event (see ``Channel.append``)."""
    if event not in CLOSING_EVENTS and same_for_every_include(data):
        return sse.frame(event, data, seq)
    return RunEvent(seq, event, data)


@dataclass(slots=True)
class Channel:
    """One run's events as this process holds them, and the subscriptions reading them."""

    history: list[Held] = field(default_factory=list)
    subscribers: set[_Subscription] = field(default_factory=set)
    expiry: asyncio.TimerHandle | None = None
    closed: bool = False  # the process is shutting down: no more events will be delivered

    def append(self, event: Held) -> None:
        # A run's history holds every event (a delta per token) until a while after the run
        # ends: those that look the same to every subscriber and close no stream as their
        # frame, bytes, which the garbage collector does not track (not a RunEvent and its
        # payload's nested containers), so that its full passes, which walk every tracked
        # object, do not grow with the events held (with hundreds of streams they took hundreds
        # of milliseconds, and every stream stalls meanwhile).
        self.history.append(event)
        for subscriber in self.subscribers:
            subscriber.wake()

    def ended(self) -> bool:
        if self.closed:
            return True
        last = self.history[-1] if self.history else None
        return isinstance(last, RunEvent) and last.event in TERMINAL_EVENTS

    def end(self) -> None:
        self.closed = True
        for subscriber in self.subscribers:
            subscriber.wake()


def end_all(channels: dict[str, Channel]) -> None:
    """``RunEvents.end_streams`` over a process's channels."""
    for channel in channels.values():
        channel.end()


class _Subscription:
    __slots__ = ("_channel", "_position", "_release", "_waiter")

    def __init__(self, channel: Channel, after_seq: int, release: Callable[[], None]) -> None:
        self._channel = channel
        self._position = after_seq
        self._waiter: asyncio.Future[None] | None = None
        self._release = release
        channel.subscribers.add(self)

    def take(self) -> list[Held]:
        history = self._channel.history
        if self._position >= len(history):
            return []
        batch = history[self._position :]
        self._position = len(history)
        return batch

    def ended(self) -> bool:
        return self._channel.ended()

    async def wait(self) -> None:
        if self._position < len(self._channel.history):
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        self.wake()
        if self in self._channel.subscribers:
            self._channel.subscribers.discard(self)
            self._release()


def subscription(channel: Channel, after_seq: int, release: Callable[[], None]) -> Subscription:
    return _Subscription(channel, after_seq, release)


async def iterate(events: RunEvents, run_id: str, after_seq: int) -> AsyncIterator[RunEvent]:
    """``RunEvents.subscribe`` on top of ``open``."""
    opened = events.open(run_id, after_seq)
    try:
        while True:
            for event in map(as_event, opened.take()):
                yield event
                if event.event in TERMINAL_EVENTS:
                    return
            await opened.wait()
    finally:
        opened.close()


class InProcessRunEvents:
    """Events held in memory, per run, and handed to subscribers by waking their waits."""

    def __init__(self, retain_seconds: float = RETAIN_SECONDS) -> None:
        self._channels: dict[str, Channel] = {}
        self._retain_seconds = retain_seconds

    def publish(self, run_id: str, event: str, data: dict[str, Any]) -> None:
        channel = self._channels.get(run_id)
        if channel is None:
            channel = self._channels[run_id] = Channel()
        channel.append(held(len(channel.history) + 1, event, data))
        if channel.expiry is not None:
            channel.expiry.cancel()
            channel.expiry = None
        if event in TERMINAL_EVENTS:
            loop = asyncio.get_running_loop()
            channel.expiry = loop.call_later(self._retain_seconds, self._drop, run_id)

    def open(self, run_id: str, after_seq: int = 0) -> Subscription:
        channel = self._channels.get(run_id)
        if channel is None:
            channel = self._channels[run_id] = Channel()
        return _Subscription(channel, after_seq, lambda: self._released(run_id, channel))

    def subscribe(self, run_id: str, after_seq: int = 0) -> AsyncIterator[RunEvent]:
        return iterate(self, run_id, after_seq)

    async def last_seq(self, run_id: str) -> int:
        channel = self._channels.get(run_id)
        return len(channel.history) if channel else 0

    async def flush(self) -> None:
        return  # published events are at once visible to this process, the only one

    def end_streams(self) -> None:
        end_all(self._channels)

    async def close(self) -> None:
        return

    def subscribers(self, run_id: str) -> int:
        """How many subscriptions to the run are open (streams being served)."""
        channel = self._channels.get(run_id)
        return len(channel.subscribers) if channel else 0

    def _released(self, run_id: str, channel: Channel) -> None:
        if (
            not channel.history
            and not channel.subscribers
            and self._channels.get(run_id) is channel
        ):
            # Nothing was ever published for the run here: hold no empty channel for it.
            del self._channels[run_id]

    def _drop(self, run_id: str) -> None:
        channel = self._channels.get(run_id)
        if channel is not None and not channel.subscribers:
            del self._channels[run_id]
