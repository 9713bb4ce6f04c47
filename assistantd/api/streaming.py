"""A run's events as a ``text/event-stream`` response (SEMANTICS.md §8).

The response only *reads* the run's published events: the run executes in an engine worker, so
a client that disconnects stops nothing but its own subscription. The stream ends after the
run's terminal event, or after ``thread.run.requires_action`` (the submit_tool_outputs stream
continues the run), with ``event: done`` / ``data: [DONE]``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

from fastapi.responses import StreamingResponse

from assistantd.api import sse
from assistantd.objects import steps
from assistantd.runs.events import TERMINAL_EVENTS, RunEvents

log = logging.getLogger(__name__)

# The events after which a stream closes.
CLOSING_EVENTS = TERMINAL_EVENTS | {"thread.run.requires_action"}
# Idle seconds before a keep-alive comment (below common proxy idle timeouts of 30–60 s).
KEEPALIVE_SECONDS = 15.0


def event_stream(frames: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(frames, media_type=sse.MEDIA_TYPE, headers=sse.HEADERS)


def visible(data: dict[str, Any], include: frozenset[str]) -> dict[str, Any]:
    """An event's payload as this run's ``include[]`` lets it be seen (file_search result
    contents only when asked for, as on the steps endpoints)."""
    return steps.for_wire(data, include) if data.get("object") == "thread.run.step" else data


async def run_frames(
    events: RunEvents, run_id: str, after_seq: int = 0, include: frozenset[str] = frozenset()
) -> AsyncIterator[bytes]:
    """The run's events with ``seq > after_seq`` (held ones first, then live), up to a closing
    event, then ``done``. Events that arrive together leave in one write. ``include`` is the
    run's own (fixed at creation), so every subscriber sees the same frame."""
    try:
        async for batch in events.batches(run_id, after_seq, KEEPALIVE_SECONDS):
            if not batch:
                yield sse.KEEPALIVE
                continue
            frames = []
            for event in batch:
                if event.frame is None:
                    event.frame = sse.frame(event.event, visible(event.data, include), event.seq)
                frames.append(event.frame)
                if event.event in CLOSING_EVENTS:
                    yield b"".join(frames) + sse.DONE
                    return
            yield b"".join(frames)
    except Exception:  # the stream's own failure; the run itself goes on
        log.exception("streaming the events of run %s", run_id)
        yield sse.error_frame("The server had an error while streaming this run.") + sse.DONE
        return
    yield sse.DONE  # the run ended before a closing event could be held (not expected)


async def snapshot_frames(
    events: Iterable[tuple[str, dict[str, Any]]], include: frozenset[str]
) -> AsyncIterator[bytes]:
    """Events made up from stored state, numbered from 1, then ``done``."""
    yield b"".join(
        sse.frame(name, visible(data, include), seq) for seq, (name, data) in enumerate(events, 1)
    )
    yield sse.DONE
