"""A run's events as a ``text/event-stream`` response (SEMANTICS.md §8).

The response only *reads* the run's published events: the run executes in an engine worker, so
a client that disconnects stops nothing but its own subscription. The stream ends after the
run's terminal event, or after ``thread.run.requires_action`` (the submit_tool_outputs stream
continues the run), with ``event: done`` / ``data: [DONE]``.

Per streamed token this path is one wake-up of the response (its subscription's wait), one
frame encoded (once, whichever subscriber comes first) and one ``send``: no generators stacked
between the channel and the socket, no timer per event, and no task group per response (one
small task watches for the client going away).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from assistantd.objects import steps
from assistantd.observability import metrics
from assistantd.runs.engine import RunEngine
from assistantd.runs.events import CLOSING_EVENTS, Held, RunEvents, Subscription
from assistantd.wire import sse

log = logging.getLogger(__name__)


class Frames(Protocol):
    async def pump(self, send: Send) -> None:
        """Send every frame as an ``http.response.body`` message with ``more_body``."""
        ...

    def interrupt(self) -> None:
        """The client went away: stop at the next chance, sending nothing more."""
        ...


class EventStream(StreamingResponse):
    """A ``StreamingResponse`` (as the endpoints declare) that pumps ``Frames`` itself."""

    def __init__(self, frames: Frames) -> None:
        super().__init__(_nothing(), media_type=sse.MEDIA_TYPE, headers=sse.HEADERS)
        self.frames = frames

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        watcher = asyncio.ensure_future(_until_disconnected(receive, self.frames))
        try:
            with metrics.live_streams.track_inprogress():
                await self.frames.pump(send)
        finally:
            watcher.cancel()
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def event_stream(frames: RunFrames | AsyncIterator[bytes]) -> StreamingResponse:
    return EventStream(frames if isinstance(frames, RunFrames) else _Iterated(frames))


def visible(data: dict[str, Any], include: frozenset[str]) -> dict[str, Any]:
    """An event's payload as this run's ``include[]`` lets it be seen (file_search result
    contents only when asked for, as on the steps endpoints)."""
    return steps.for_wire(data, include) if data.get("object") == "thread.run.step" else data


class RunFrames:
    """The run's events with ``seq > after_seq`` (held ones first, then live), up to a closing
    event, then ``done``. Events that arrive together leave in one write. ``include`` is the
    run's own (fixed at creation), so every subscriber sees the same frame."""

    def __init__(
        self,
        events: RunEvents,
        run_id: str,
        after_seq: int = 0,
        include: frozenset[str] = frozenset(),
        keepalive_seconds: float = 15.0,
    ) -> None:
        self._events = events
        self._run_id = run_id
        self._after_seq = after_seq
        self._include = include
        self._keepalive_seconds = keepalive_seconds
        self._subscription: Subscription | None = None
        self._interrupted = False

    def interrupt(self) -> None:
        self._interrupted = True
        if self._subscription is not None:
            self._subscription.wake()

    async def pump(self, send: Send) -> None:
        subscription = self._subscription = self._events.open(self._run_id, self._after_seq)
        keepalive = _Keepalive(subscription, self._keepalive_seconds)
        try:
            await self._pump(subscription, keepalive, send)
        finally:
            keepalive.cancel()
            subscription.close()

    async def _pump(self, subscription: Subscription, keepalive: _Keepalive, send: Send) -> None:
        while not self._interrupted:
            batch = subscription.take()
            if batch:
                body, closing = self._encode(batch)
                await send({"type": "http.response.body", "body": body, "more_body": True})
                keepalive.sent()
                if closing:
                    return
                continue
            if subscription.ended():
                break  # joined after the end: nothing more will come
            if keepalive.owed():
                await send({"type": "http.response.body", "body": sse.KEEPALIVE, "more_body": True})
                keepalive.sent()
                continue
            await subscription.wait()
        if not self._interrupted:
            # The run ended before a closing event could be held (not expected).
            await send({"type": "http.response.body", "body": sse.DONE, "more_body": True})

    def _encode(self, batch: list[Held]) -> tuple[bytes, bool]:
        """The batch's frames, up to and with a closing event (then ``done``); an error frame
        instead if encoding fails (the stream's own failure: the run itself goes on)."""
        try:
            frames = []
            for event in batch:
                if isinstance(event, bytes):  # held as its frame, the same for every subscriber
                    frames.append(event)
                    continue
                if event.frame is None:
                    data = visible(event.data, self._include)
                    event.frame = sse.frame(event.event, data, event.seq)
                frames.append(event.frame)
                if event.event in CLOSING_EVENTS:
                    frames.append(sse.DONE)
                    return b"".join(frames), True
            return (frames[0] if len(frames) == 1 else b"".join(frames)), False
        except Exception:
            log.exception("streaming the events of run %s", self._run_id)
            return sse.error_frame(
                "The server had an error while streaming this run."
            ) + sse.DONE, True


def run_stream(
    engine: RunEngine, run_id: str, after_seq: int = 0, include: frozenset[str] = frozenset()
) -> StreamingResponse:
    """The response that streams a run's events from ``after_seq`` on, kept alive as the
    server's settings say."""
    keepalive = engine.settings.stream_keepalive_seconds
    return event_stream(RunFrames(engine.events, run_id, after_seq, include, keepalive))


async def snapshot_frames(
    events: Iterable[tuple[str, dict[str, Any]]], include: frozenset[str]
) -> AsyncIterator[bytes]:
    """Events made up from stored state, numbered from 1, then ``done``."""
    yield b"".join(
        sse.frame(name, visible(data, include), seq) for seq, (name, data) in enumerate(events, 1)
    )
    yield sse.DONE


class _Keepalive:
    """Wakes the subscription once the stream has been idle for ``seconds``: one timer per
    stream, set again only when it fires (a token costs an assignment, not a timer)."""

    def __init__(self, subscription: Subscription, seconds: float) -> None:
        self._subscription = subscription
        self._seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._owed = False
        self._timer = self._loop.call_at(self._last + seconds, self._fire)

    def sent(self) -> None:
        self._last = self._loop.time()

    def owed(self) -> bool:
        """Whether a keep-alive is due (once: asking again says no until the next one)."""
        owed, self._owed = self._owed, False
        return owed

    def cancel(self) -> None:
        self._timer.cancel()

    def _fire(self) -> None:
        now, idle_until = self._loop.time(), self._last + self._seconds
        if now >= idle_until:
            self._owed = True
            self._subscription.wake()
            idle_until = now + self._seconds
        self._timer = self._loop.call_at(idle_until, self._fire)


class _Iterated:
    """Frames from an async iterator (a stream told from stored state)."""

    def __init__(self, frames: AsyncIterator[bytes]) -> None:
        self._frames = frames
        self._interrupted = False

    def interrupt(self) -> None:
        self._interrupted = True

    async def pump(self, send: Send) -> None:
        async for body in self._frames:
            if self._interrupted:
                return
            await send({"type": "http.response.body", "body": body, "more_body": True})


async def _until_disconnected(receive: Receive, frames: Frames) -> None:
    # The request body has been read (or there is none), so what comes next is the client
    # going away (uvicorn also says so once the response is complete).
    while (await receive())["type"] != "http.disconnect":
        pass
    frames.interrupt()


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield  # an async generator that yields nothing: EventStream never iterates its body
