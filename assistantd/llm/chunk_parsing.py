"""Turning OpenAI chat-completion payloads (stream chunks or whole completions) into ChatChunks.

Payloads come from a server we do not control, so every field is checked for its type before it
is used: one of the wrong shape is the endpoint's fault and raises ``MalformedChunk`` naming the
field, which the backend reports as such (instead of an ``AttributeError`` deep in the engine).
Absent and ``null`` fields are fine: servers leave out or null what they do not send.

Backends' dialects are read tolerantly: tool calls go through a ``ToolCallAssembler`` (calls
without index or ids, arguments as objects), usage is taken from ``usage`` or Groq's
``x_groq.usage``, and fields this parser does not read (``reasoning_content``, ``reasoning``,
Azure's ``content_filter_results``) are left out, so reasoning never becomes message text.
"""

from __future__ import annotations

from typing import Any, TypeVar

from assistantd.llm.chat import ChatChunk, ToolCallDelta, Usage
from assistantd.llm.tool_call_assembly import ToolCallAssembler

T = TypeVar("T")


class MalformedChunk(ValueError):
    """A payload whose shape is not a chat completion's; the message says which field."""


def chunk_from_event(payload: dict[str, Any], assembler: ToolCallAssembler) -> ChatChunk | None:
    """The ChatChunk of one ``chat.completion.chunk``, or None when it carries nothing.
    ``assembler`` is the response's: it numbers the calls across its chunks."""
    text = raw_calls = finish_reason = None
    # Empty ``choices`` (usage, Azure's prompt_filter_results) and a choice without ``delta``
    # (Azure's content_filter_results) carry no text.
    if choices := payload.get("choices"):
        choice = _first_choice(choices)
        delta = _optional(choice.get("delta"), dict, "choices[0].delta") or {}
        text = _optional(delta.get("content"), str, "choices[0].delta.content") or None
        raw_calls = _optional(delta.get("tool_calls"), list, "choices[0].delta.tool_calls")
        finish_reason = _optional(choice.get("finish_reason"), str, "choices[0].finish_reason")
    # Per token, so the rare cases are looked for only when their keys are there.
    usage = _stream_usage(payload) if "usage" in payload or "x_groq" in payload else None
    if not (text or raw_calls or finish_reason or usage):
        return None  # e.g. the role chunk, a reasoning delta, or a keep-alive
    if not raw_calls:
        if finish_reason is not None:
            finish_reason = assembler.finish_reason(finish_reason)
        return ChatChunk(text, (), finish_reason, usage)
    where = "choices[0].delta.tool_calls"
    calls = [_tool_call_delta(raw, f"{where}[{i}]", assembler) for i, raw in enumerate(raw_calls)]
    return ChatChunk(text, calls, assembler.finish_reason(finish_reason), usage)


def chunk_from_completion(payload: dict[str, Any]) -> ChatChunk:
    """A whole ``chat.completion`` (from a server that ignored ``stream``) as one chunk."""
    choices = payload.get("choices")
    choice = _first_choice(choices) if choices else {}
    message = _optional(choice.get("message"), dict, "choices[0].message") or {}
    where = "choices[0].message.tool_calls"
    raw_calls = _optional(message.get("tool_calls"), list, where) or ()
    assembler = ToolCallAssembler()
    calls = [
        _tool_call_delta(
            {**_required(raw, dict, f"{where}[{index}]"), "index": index}, where, assembler
        )
        for index, raw in enumerate(raw_calls)
    ]
    finish = _optional(choice.get("finish_reason"), str, "choices[0].finish_reason") or "stop"
    return ChatChunk(
        text=_optional(message.get("content"), str, "choices[0].message.content") or None,
        tool_calls=calls,
        finish_reason=assembler.finish_reason(finish),
        usage=usage_from(payload.get("usage")),
    )


def usage_from(raw: object) -> Usage | None:
    if raw is None:
        return None
    raw = _required(raw, dict, "usage")
    prompt = _count(raw, "prompt_tokens")
    completion = _count(raw, "completion_tokens")
    total = _count(raw, "total_tokens") or prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total)


def _first_choice(choices: object) -> dict[str, Any]:
    choices = _required(choices, list, "choices")
    return _required(choices[0], dict, "choices[0]") if choices else {}


def _stream_usage(payload: dict[str, Any]) -> Usage | None:
    if "usage" in payload and (usage := usage_from(payload["usage"])) is not None:
        return usage
    if "x_groq" in payload:  # Groq: on the last chunk, under its own key
        groq = _optional(payload["x_groq"], dict, "x_groq") or {}
        return usage_from(groq.get("usage"))
    return None


def _tool_call_delta(raw: object, where: str, assembler: ToolCallAssembler) -> ToolCallDelta:
    raw = _required(raw, dict, where)
    function = _optional(raw.get("function"), dict, f"{where}.function") or {}
    arguments = function.get("arguments")
    if not isinstance(arguments, dict | list):  # TGI sends an object: JSON-encoded whole
        arguments = _optional(arguments, str, f"{where}.function.arguments")
    return assembler.delta(
        raw_index=_optional(raw.get("index"), int, f"{where}.index"),
        call_id=_optional(raw.get("id"), str, f"{where}.id"),
        name=_optional(function.get("name"), str, f"{where}.function.name") or None,
        arguments=arguments,
        extra_content=_optional(raw.get("extra_content"), dict, f"{where}.extra_content"),
    )


def _count(usage: dict[str, Any], key: str) -> int:
    value = usage.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedChunk(f"usage.{key} is {_shown(value)}, not a number")
    return int(value)


_KINDS = {dict: "an object", list: "a list", str: "a string", int: "an integer"}


def _required(value: object, kind: type[T], where: str) -> T:
    # bool is an int to isinstance, but never a valid index or count.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedChunk(f"{where} is {_shown(value)}, not {_KINDS[kind]}")
    return value


def _optional(value: object, kind: type[T], where: str) -> T | None:
    return None if value is None else _required(value, kind, where)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
