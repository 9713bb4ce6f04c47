"""Which request fields a backend accepts, learned from its 400s or pinned by a route's dialect.

The request assistantd sends is OpenAI's. Some backends refuse parts of it with a 400 (or a
422): TGI ``stream_options``, OpenAI's reasoning models ``max_tokens`` (they take
``max_completion_tokens``), a ``temperature`` or ``top_p``, the ``system`` role (they take
``developer``), and some ``parallel_tool_calls``. The backend then sends the request again
without (or with the alternative to) the refused field, and keeps the shape for that model, so
later calls go out in it at once.

    shape = RequestShape()                       # OpenAI's request, unchanged
    shape = shape.without_refused(400, body_text, sent) or shape
    body = shaped_body(request_body, shape)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

# Statuses a refused field comes back with (TGI validates its request body with 422).
REFUSAL_STATUSES = frozenset({400, 422})


@dataclass(frozen=True)
class RequestShape:
    stream_options: bool = True
    parallel_tool_calls: bool = True
    sampling: bool = True  # temperature and top_p
    max_tokens_field: str = "max_tokens"
    system_role: str = "system"
    # False once the model refused tools: a route's ``tool_calling`` "auto" then emulates them
    # (``tool_calling``); the request body itself is shaped without tools before it gets here.
    tools: bool = True

    def without_refused(self, status: int, text: str, sent: dict[str, Any]) -> RequestShape | None:
        """The shape that avoids the field this error refused, or None when it refused none
        that can be left out (or that is already left out)."""
        if status not in REFUSAL_STATUSES:
            return None
        said = _error_words(text)
        for adapt in _ADAPTATIONS:
            adapted = adapt(self, said, sent)
            if adapted is not None:
                return adapted
        return None


def shaped_body(body: dict[str, Any], shape: RequestShape) -> dict[str, Any]:
    """``body`` (OpenAI's form) as ``shape`` says; the same object for OpenAI's shape."""
    if shape == _OPENAI:
        return body
    body = dict(body)
    if not shape.stream_options:
        body.pop("stream_options", None)
    if not shape.parallel_tool_calls:
        body.pop("parallel_tool_calls", None)
    if not shape.sampling:
        body.pop("temperature", None)
        body.pop("top_p", None)
    if shape.max_tokens_field != "max_tokens" and "max_tokens" in body:
        body[shape.max_tokens_field] = body.pop("max_tokens")
    if shape.system_role != "system":
        body["messages"] = [_with_role(m, shape.system_role) for m in body["messages"]]
    return body


_OPENAI = RequestShape()

# The shapes a route's ``dialect`` setting pins; unnamed dialects start from OpenAI's.
PINNED_SHAPES: dict[str, RequestShape] = {
    "openai-reasoning": RequestShape(
        sampling=False, max_tokens_field="max_completion_tokens", system_role="developer"
    ),
    "tgi": RequestShape(stream_options=False),
}


def pinned_shape(dialect: str | None) -> RequestShape:
    return PINNED_SHAPES.get(dialect or "openai", _OPENAI)


def _with_role(message: dict[str, Any], system_role: str) -> dict[str, Any]:
    return {**message, "role": system_role} if message.get("role") == "system" else message


def _error_words(text: str) -> str:
    """The error's message and ``param``, lower-cased: where a refused field is named."""
    try:
        body = json.loads(text)
    except ValueError:
        return text.lower()
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        return f"{error.get('message', '')} {error.get('param', '')}".lower()
    return str(error).lower()


def _stream_options(shape: RequestShape, said: str, sent: dict[str, Any]) -> RequestShape | None:
    if shape.stream_options and "stream_options" in sent and "stream_options" in said:
        return replace(shape, stream_options=False)
    return None


def _parallel_tool_calls(
    shape: RequestShape, said: str, sent: dict[str, Any]
) -> RequestShape | None:
    named = "parallel_tool_calls" in said
    if shape.parallel_tool_calls and "parallel_tool_calls" in sent and named:
        return replace(shape, parallel_tool_calls=False)
    return None


def _max_tokens(shape: RequestShape, said: str, sent: dict[str, Any]) -> RequestShape | None:
    # "max_tokens" is in "max_completion_tokens" too: only the bare name counts.
    named = "max_tokens" in said.replace("max_completion_tokens", "")
    if shape.max_tokens_field == "max_tokens" and "max_tokens" in sent and named:
        return replace(shape, max_tokens_field="max_completion_tokens")
    return None


def _sampling(shape: RequestShape, said: str, sent: dict[str, Any]) -> RequestShape | None:
    sampled = any(name in sent and name in said for name in ("temperature", "top_p"))
    if shape.sampling and sampled:
        return replace(shape, sampling=False)
    return None


def _system_role(shape: RequestShape, said: str, sent: dict[str, Any]) -> RequestShape | None:
    has_system = any(m.get("role") == "system" for m in sent.get("messages") or ())
    if shape.system_role == "system" and has_system and "system" in said and "role" in said:
        return replace(shape, system_role="developer")
    return None


_ADAPTATIONS = (_stream_options, _parallel_tool_calls, _max_tokens, _sampling, _system_role)
