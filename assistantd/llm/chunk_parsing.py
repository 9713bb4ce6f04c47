"""Turning OpenAI chat-completion payloads (stream chunks or whole completions) into ChatChunks."""

from __future__ import annotations

from typing import Any

from assistantd.llm.chat import ChatChunk, ToolCallDelta, Usage


def chunk_from_event(payload: dict[str, Any]) -> ChatChunk | None:
    """The ChatChunk of one ``chat.completion.chunk``, or None when it carries nothing."""
    choices = payload.get("choices")
    choice = (choices[0] or {}) if choices else {}
    delta = choice.get("delta") or {}
    raw_calls = delta.get("tool_calls")
    text = delta.get("content") or None
    finish_reason = choice.get("finish_reason")
    usage = usage_from(payload["usage"]) if "usage" in payload else None
    if not (text or raw_calls or finish_reason or usage):
        return None  # e.g. the role chunk, or a keep-alive
    calls = [_tool_call_delta(raw) for raw in raw_calls] if raw_calls else ()
    return ChatChunk(text, calls, finish_reason, usage)


def chunk_from_completion(payload: dict[str, Any]) -> ChatChunk:
    """A whole ``chat.completion`` (from a server that ignored ``stream``) as one chunk."""
    choices = payload.get("choices") or []
    choice = choices[0] if choices else {}
    message = choice.get("message") or {}
    calls = [
        ToolCallDelta(
            index=index,
            id=raw.get("id"),
            name=(raw.get("function") or {}).get("name"),
            arguments=(raw.get("function") or {}).get("arguments") or "",
        )
        for index, raw in enumerate(message.get("tool_calls") or ())
    ]
    return ChatChunk(
        text=message.get("content") or None,
        tool_calls=calls,
        finish_reason=choice.get("finish_reason") or "stop",
        usage=usage_from(payload.get("usage")),
    )


def usage_from(raw: object) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt = int(raw.get("prompt_tokens") or 0)
    completion = int(raw.get("completion_tokens") or 0)
    total = int(raw.get("total_tokens") or prompt + completion)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def _tool_call_delta(raw: dict[str, Any]) -> ToolCallDelta:
    function = raw.get("function") or {}
    return ToolCallDelta(
        index=int(raw.get("index") or 0),
        id=raw.get("id") or None,
        name=function.get("name") or None,
        arguments=function.get("arguments") or "",
    )
