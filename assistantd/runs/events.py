"""Run events: what happens to a run, published as it happens, for streaming consumers.

The engine publishes every event of SEMANTICS.md §8 (``thread.run.*``, ``thread.run.step.*``,
``thread.message.*``) with its wire payload. A consumer (the SSE endpoint) subscribes by run id
and receives, in order, each event with a per-run sequence number. Events of a run are kept
until a while after it ends, so a subscriber that arrives late (it learns the run id only from
the create response) still sees them from the start, or from ``after_seq``.

The in-process implementation suits one server process (runs execute where they were created
or resumed); a multi-process deployment can swap in one on PostgreSQL LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

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
# How long a finished run's events stay available to late subscribers.
RETAIN_SECONDS = 60.0


@dataclass(slots=True)
class RunEvent:
    seq: int  # 1, 2, 3… per run, in publishing order
    event: str  # e.g. "thread.message.delta"
    data: dict[str, Any]  # the wire payload
    # Its SSE frame, encoded by the first stream that sends it and reused by every other one.
    frame: bytes | None = None


class RunEvents(Protocol):
    def publish(self, run_id: str, event: str, data: dict[str, Any]) -> None:
        """Record and deliver one event; never blocks."""
        ...

    def subscribe(self, run_id: str, after_seq: int = 0) -> AsyncIterator[RunEvent]:
        """The run's events with ``seq > after_seq``: those already published, then live ones.
        Ends after a terminal ``thread.run.*`` event; a consumer that stops at
        ``thread.run.requires_action`` simply stops iterating."""
        ...

    def batches(
        self, run_id: str, after_seq: int = 0, idle_seconds: float | None = None
    ) -> AsyncIterator[list[RunEvent]]:
        """Like ``subscribe``, but every event already waiting comes at once (a consumer that
        fell behind catches up in one write), and an empty list comes after ``idle_seconds``
        without events (time for a keep-alive)."""
        ...

    def last_seq(self, run_id: str) -> int:
        """The newest event's sequence number; 0 when none is held for the run."""
        ...


@dataclass
class _Channel:
    history: list[RunEvent] = field(default_factory=list)
    waiters: set[asyncio.Event] = field(default_factory=set)
    expiry: asyncio.TimerHandle | None = None


class InProcessRunEvents:
    """Events held in memory, per run, and handed to subscribers through asyncio events."""

    def __init__(self, retain_seconds: float = RETAIN_SECONDS) -> None:
        self._channels: dict[str, _Channel] = {}
        self._retain_seconds = retain_seconds

    def publish(self, run_id: str, event: str, data: dict[str, Any]) -> None:
        channel = self._channels.setdefault(run_id, _Channel())
        channel.history.append(RunEvent(len(channel.history) + 1, event, data))
        for waiter in channel.waiters:
            waiter.set()
        if channel.expiry is not None:
            channel.expiry.cancel()
            channel.expiry = None
        if event in TERMINAL_EVENTS:
            loop = asyncio.get_running_loop()
            channel.expiry = loop.call_later(self._retain_seconds, self._drop, run_id)

    async def subscribe(self, run_id: str, after_seq: int = 0) -> AsyncIterator[RunEvent]:
        channel = self._channels.setdefault(run_id, _Channel())
        waiter = asyncio.Event()
        channel.waiters.add(waiter)
        position = after_seq
        try:
            while True:
                while position < len(channel.history):
                    event = channel.history[position]
                    position += 1
                    yield event
                    if event.event in TERMINAL_EVENTS:
                        return
                waiter.clear()
                await waiter.wait()
        finally:
            channel.waiters.discard(waiter)

    async def batches(
        self, run_id: str, after_seq: int = 0, idle_seconds: float | None = None
    ) -> AsyncIterator[list[RunEvent]]:
        channel = self._channels.setdefault(run_id, _Channel())
        waiter = asyncio.Event()
        channel.waiters.add(waiter)
        position = after_seq
        try:
            while True:
                if position < len(channel.history):
                    batch = channel.history[position:]
                    position += len(batch)
                    for end, event in enumerate(batch, 1):
                        if event.event in TERMINAL_EVENTS:
                            yield batch[:end]
                            return
                    yield batch
                    continue
                if channel.history and channel.history[-1].event in TERMINAL_EVENTS:
                    return  # joined after the end: nothing more will come
                waiter.clear()
                try:
                    async with asyncio.timeout(idle_seconds):
                        await waiter.wait()
                except TimeoutError:
                    yield []
        finally:
            channel.waiters.discard(waiter)
            if not channel.history and not channel.waiters:
                # Nothing was ever published for the run here: hold no empty channel for it.
                self._channels.pop(run_id, None)

    def last_seq(self, run_id: str) -> int:
        channel = self._channels.get(run_id)
        return len(channel.history) if channel else 0

    def _drop(self, run_id: str) -> None:
        channel = self._channels.get(run_id)
        if channel is not None and not channel.waiters:
            del self._channels[run_id]
