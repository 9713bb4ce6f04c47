"""OpenAI chat-completions shapes: stream chunks, whole completions and error bodies."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from itertools import cycle
from typing import Any

import orjson

from assistantd.scripted_model.dialects import OPENAI, Dialect
from assistantd.scripted_model.reply import Reply

DONE = b"data: [DONE]\n\n"
# A comment event: SSE clients skip it (servers send it to keep idle connections open).
KEEPALIVE = b": keep-alive\n\n"


class ChunkWriter:
    """Builds the SSE events of one streamed completion, sharing id, model and timestamp.

    A text piece's event is the same bytes every time but for the piece itself, so it is put
    together from a prefix and a suffix encoded once (per token: one small ``orjson.dumps``).
    """

    def __init__(self, model: str, system_fingerprint: str | None = None) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.model = model
        self.created = int(time.time())
        head = orjson.dumps(
            {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "system_fingerprint": system_fingerprint,
            }
        )
        self._head = b"data: " + head[:-1] + b',"choices":'  # the object left open
        self._text_head = self._head + b'[{"index":0,"delta":{"content":'
        self._text_tail = b'},"logprobs":null,"finish_reason":null}]}\n\n'

    def event(self, choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> bytes:
        tail = b"}\n\n" if usage is None else b',"usage":' + orjson.dumps(usage) + b"}\n\n"
        return self._head + _one_line(choices) + tail

    def payload(self, choices: list[dict[str, Any]], extra: dict[str, Any]) -> bytes:
        """A chunk with fields besides ``choices`` (a dialect's ``x_groq``, ``timings``…)."""
        if not extra:
            return self.event(choices)
        return self._head + _one_line(choices) + b"," + _one_line(extra)[1:] + b"\n\n"

    def raw(self, payload: dict[str, Any]) -> bytes:
        """An event of exactly ``payload``, none of this writer's fields added."""
        return b"data: " + _one_line(payload) + b"\n\n"

    def delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self.event([choice])

    def text(self, piece: str) -> bytes:
        """``delta({"content": piece})``, without encoding the rest again."""
        return b"".join((self._text_head, _one_line(piece), self._text_tail))


# orjson leaves these raw (as UTF-8); clients that split lines with ``str.splitlines`` would
# cut a ``data:`` line at them, so they go out escaped, as ``json.dumps`` would send them.
_LINE_BREAKERS = (
    (b"\xc2\x85", b"\\u0085"),
    (b"\xe2\x80\xa8", b"\\u2028"),
    (b"\xe2\x80\xa9", b"\\u2029"),
)


def _one_line(value: object) -> bytes:
    encoded = orjson.dumps(value)
    for breaker, escaped in _LINE_BREAKERS:
        if breaker in encoded:
            encoded = encoded.replace(breaker, escaped)
    return encoded


def stream_events(
    reply: Reply, model: str, include_usage: bool, dialect: Dialect = OPENAI
) -> Iterator[bytes]:
    """Every SSE event of ``reply`` in order: role, reasoning, text pieces, tool calls, finish,
    usage, as ``dialect`` sends them. A reply scripted never to finish yields forever (the
    caller paces and stops it)."""
    writer = ChunkWriter(dialect.wire_model or model, dialect.system_fingerprint)
    yield from dialect.before_first_chunk(writer)
    yield writer.delta({"role": "assistant", "content": "", "refusal": None})
    if reply.raw_chunks is not None:
        for raw in reply.raw_chunks:
            data = raw.encode() if isinstance(raw, str) else orjson.dumps(raw)
            yield b"data: " + data + b"\n\n"
        yield DONE
        return
    if dialect.reasoning_delta is not None:
        for piece in reply.reasoning_pieces:
            yield writer.delta(dialect.reasoning_delta(piece))
    for piece in cycle(reply.pieces or [" "]) if reply.endless else reply.pieces:
        yield writer.text(piece)
    yield from dialect.after_text(writer)
    if reply.stream_error is not None:
        yield dialect.stream_error(writer, reply.stream_error)
        yield DONE
        return
    for delta in dialect.tool_call_deltas(reply.tool_calls):
        yield writer.delta(delta)
    while reply.comments_every_s is not None:
        yield KEEPALIVE
    yield from dialect.closing(writer, reply, dialect.finish_reason(reply), include_usage)
    yield DONE


def completion(reply: Reply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in reply.tool_calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}
        ],
        "usage": reply.usage,
    }


def error_body(status: int, error: str | dict[str, Any] | None, dialect: Dialect = OPENAI) -> Any:
    if isinstance(error, dict):
        detail = {"message": "", "type": _error_type(status), "param": None, "code": None} | error
    else:
        detail = {
            "message": error or f"scripted error {status}",
            "type": _error_type(status),
            "param": None,
            "code": _error_code(status),
        }
    return dialect.error_body(status, detail)


def context_length_error(limit: int, used: int) -> dict[str, Any]:
    message = (
        f"This model's maximum context length is {limit} tokens. However, your messages resulted "
        f"in {used} tokens. Please reduce the length of the messages."
    )
    return error_body(
        400,
        {"message": message, "param": "messages", "code": "context_length_exceeded"},
    )


def _error_type(status: int) -> str:
    if status == 429:
        return "requests"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


def _error_code(status: int) -> str | None:
    return {429: "rate_limit_exceeded"}.get(status)
