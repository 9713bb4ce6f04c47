"""OpenAI chat-completions shapes: stream chunks, whole completions and error bodies."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from assistantd.scripted_model.reply import Reply

DONE = b"data: [DONE]\n\n"


class ChunkWriter:
    """Builds the SSE events of one streamed completion, sharing id, model and timestamp."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.model = model
        self.created = int(time.time())

    def event(self, choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> bytes:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if usage is not None:
            chunk["usage"] = usage
        return b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"

    def delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self.event([choice])


def stream_events(reply: Reply, model: str, include_usage: bool) -> Iterator[bytes]:
    """Every SSE event of ``reply`` in order: role, text pieces, tool calls, finish, usage."""
    writer = ChunkWriter(model)
    yield writer.delta({"role": "assistant", "content": "", "refusal": None})
    for piece in reply.pieces:
        yield writer.delta({"content": piece})
    for index, call in enumerate(reply.tool_calls):
        head = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        yield writer.delta({"tool_calls": [head]})
        for fragment in call.fragments():
            yield writer.delta(
                {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}
            )
    yield writer.delta({}, finish_reason=reply.finish_reason)
    if include_usage and reply.send_usage:
        yield writer.event([], usage=reply.usage)
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


def error_body(status: int, error: str | dict[str, Any] | None) -> dict[str, Any]:
    if isinstance(error, dict):
        detail = {"message": "", "type": _error_type(status), "param": None, "code": None} | error
    else:
        detail = {
            "message": error or f"scripted error {status}",
            "type": _error_type(status),
            "param": None,
            "code": _error_code(status),
        }
    return {"error": detail}


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
