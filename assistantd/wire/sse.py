"""Server-sent event frames as the Assistants stream sends them (SEMANTICS.md §8).

    id: 7
    event: thread.message.delta
    data: {"id":"msg_…","object":"thread.message.delta","delta":{…}}
    <blank line>

``data`` is always one line: JSON escapes every newline inside strings, and compact separators
keep per-token frames small. The stream closes with ``event: done`` / ``data: [DONE]``.
"""

from __future__ import annotations

from typing import Any

import orjson

MEDIA_TYPE = "text/event-stream"
# Proxies must neither buffer nor cache the stream (``X-Accel-Buffering`` is nginx's switch).
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

DONE = b"event: done\ndata: [DONE]\n\n"
# A comment line: ignored by every SSE parser, it keeps idle connections open through proxies.
# Sent between frames and *without* a blank line after it: a blank line dispatches an event, and
# parsers that keep the last event id across events (the official Python SDK's does, as the SSE
# spec says) would then hand their caller an empty event with no data. The next frame's fields
# follow it instead, so the comment sits inside that frame, where it is ignored.
KEEPALIVE = b": keep-alive\n"

# Characters JSON leaves raw that ``str.splitlines`` (and so httpx's line reader, used by many
# SSE clients) takes for line breaks: they would cut a ``data:`` line in two. As UTF-8 bytes
# (orjson writes UTF-8, compact), with their JSON escapes.
_LINE_BREAKERS = (
    ("\x85".encode(), b"\\u0085"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def frame(event: str, data: dict[str, Any], seq: int | None = None) -> bytes:
    """One event; ``seq`` becomes its ``id:`` (what a reconnecting client sends back as
    ``Last-Event-ID``)."""
    head = f"id: {seq}\nevent: {event}\ndata: " if seq is not None else f"event: {event}\ndata: "
    return b"".join((head.encode(), one_line_json(data), b"\n\n"))


def one_line_json(data: dict[str, Any]) -> bytes:
    text = orjson.dumps(data)
    for breaker, escaped in _LINE_BREAKERS:
        if breaker in text:
            text = text.replace(breaker, escaped)
    return text


def error_frame(message: str, code: str = "server_error") -> bytes:
    """The ``error`` event: the bare ``Error`` object (SEMANTICS.md §8)."""
    error = {"code": code, "message": message, "param": None, "type": "server_error"}
    return frame("error", error)
