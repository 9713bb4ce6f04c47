"""Turns a chat request (and the scripted step, if any) into the reply to send."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from itertools import cycle, islice
from typing import Any

from assistantd import tokens
from assistantd.scripted_model.options import ScriptedModelOptions
from assistantd.scripted_model.schema_instance import instance
from assistantd.scripted_model.script import ScriptedToolCall, Step

# Deterministic filler for --reply-words, so benchmark replies have a known length.
_FILLER = ("lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit")
# Tool-call arguments are streamed in fragments of this many characters, as real models do.
_ARGUMENT_FRAGMENT_CHARS = 8


@dataclass
class PlannedToolCall:
    id: str
    name: str
    arguments: str

    @property
    def arguments_value(self) -> Any:
        """The arguments as a JSON value (TGI sends them so), or the text if it is not JSON."""
        try:
            return json.loads(self.arguments)
        except ValueError:
            return self.arguments

    def fragments(self) -> list[str]:
        text = self.arguments
        size = _ARGUMENT_FRAGMENT_CHARS
        return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@dataclass
class Reply:
    pieces: list[str]  # the text, in the order it is streamed
    tool_calls: list[PlannedToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    usage: dict[str, int] = field(default_factory=dict)
    chunk_delay_s: float = 0.0
    first_token_delay_s: float = 0.0
    drop_after_chunks: int | None = None
    send_usage: bool = True
    raw_chunks: list[Any] | None = None
    comments_every_s: float | None = None
    endless: bool = False
    reasoning_pieces: list[str] = field(default_factory=list)  # before the text
    stream_error: str | None = None  # a mid-stream error after the text, in place of the end

    @property
    def reasoning_tokens(self) -> int:
        return tokens.count("".join(self.reasoning_pieces))

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def plan_reply(body: dict[str, Any], step: Step | None, options: ScriptedModelOptions) -> Reply:
    reply = _default_reply(body, options) if step is None else _scripted_reply(step)
    reply.usage = _usage(body, reply, step.usage if step else None)
    return reply


def _default_reply(body: dict[str, Any], options: ScriptedModelOptions) -> Reply:
    """What an unscripted request gets: the calls ``tool_choice`` forces, else the echo (as
    JSON of the requested schema, if one is); with ``reasoning_effort``, some reasoning first
    (which the dialect streams, or keeps hidden as OpenAI does)."""
    messages = body.get("messages") or []
    if calls := forced_calls(body):
        reply = Reply(pieces=[], tool_calls=calls, finish_reason="tool_calls")
    else:
        text = default_text(messages, options.reply_words)
        if (schema := response_schema(body)) is not None:
            text = json.dumps(instance(schema, text))
        reply = Reply(pieces=split_words(text), chunk_delay_s=options.token_delay_ms / 1000)
    if effort := body.get("reasoning_effort"):
        thought = f"Thinking ({effort}) about: {last_user_text(messages)}"
        reply.reasoning_pieces = split_words(thought)
    return reply


def forced_calls(body: dict[str, Any]) -> list[PlannedToolCall]:
    """The calls a model must make: the function a ``tool_choice`` names, or with
    ``"required"`` every tool offered (only the first when ``parallel_tool_calls`` is false).
    None right after a tool result, so that a forced run can still end."""
    messages = body.get("messages") or []
    if messages and messages[-1].get("role") == "tool":
        return []
    tools = [t.get("function") or {} for t in body.get("tools") or [] if isinstance(t, dict)]
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        tools = [t for t in tools if t.get("name") == name]
    elif choice != "required":
        return []
    if body.get("parallel_tool_calls") is False:
        tools = tools[:1]
    hint = last_user_text(messages)
    return [
        PlannedToolCall(
            id=f"call_{uuid.uuid4().hex[:24]}",
            name=str(tool.get("name")),
            arguments=json.dumps(instance(tool.get("parameters") or {"type": "object"}, hint)),
        )
        for tool in tools
    ]


def response_schema(body: dict[str, Any]) -> Any:
    """The JSON schema the answer must follow (``{"type": "object"}`` for ``json_object``)."""
    response_format = body.get("response_format")
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_object":
        return {"type": "object"}
    if response_format.get("type") == "json_schema":
        return (response_format.get("json_schema") or {}).get("schema") or {"type": "object"}
    return None


def default_text(messages: list[dict[str, Any]], reply_words: int) -> str:
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        text = f"Tool result: {content_text(last.get('content'))}"
    else:
        text = f"Echo: {last_user_text(messages)}"
    words = text.split()
    if len(words) < reply_words:
        words.extend(islice(cycle(_FILLER), reply_words - len(words)))
        text = " ".join(words)
    return text


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def content_text(content: object) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return "".join(t for t in texts if isinstance(t, str))
    return json.dumps(content)


def split_words(text: str) -> list[str]:
    """Word-sized pieces that join back to ``text`` exactly (each but the first keeps its space)."""
    words = text.split(" ")
    return [words[0], *(" " + word for word in words[1:])] if text else []


def _scripted_reply(step: Step) -> Reply:
    text = step.text or ""
    pieces = list(step.chunks) if step.chunks is not None else split_words(text)
    calls = [_planned_call(call) for call in step.tool_calls]
    finish = step.finish_reason or ("tool_calls" if calls else "stop")
    return Reply(
        pieces=pieces,
        tool_calls=calls,
        finish_reason=finish,
        chunk_delay_s=step.chunk_delay_ms / 1000,
        first_token_delay_s=step.first_token_delay_ms / 1000,
        drop_after_chunks=step.drop_after_chunks,
        send_usage=step.send_usage,
        raw_chunks=step.raw_chunks,
        comments_every_s=None if step.comments_every_ms is None else step.comments_every_ms / 1000,
        endless=step.endless,
        reasoning_pieces=split_words(step.reasoning or ""),
        stream_error=step.stream_error,
    )


def _planned_call(call: ScriptedToolCall) -> PlannedToolCall:
    arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
    return PlannedToolCall(
        id=call.id or f"call_{uuid.uuid4().hex[:24]}", name=call.name, arguments=arguments
    )


def prompt_tokens(body: dict[str, Any]) -> int:
    return tokens.count_messages(body.get("messages") or []) + tokens.count_tools(body.get("tools"))


def _usage(body: dict[str, Any], reply: Reply, override: dict[str, int] | None) -> dict[str, int]:
    prompt = prompt_tokens(body)
    completion = (
        tokens.count(reply.text)
        + reply.reasoning_tokens
        + sum(tokens.count(c.name) + tokens.count(c.arguments) for c in reply.tool_calls)
    )
    usage = {"prompt_tokens": prompt, "completion_tokens": completion}
    usage.update(override or {})
    if "total_tokens" not in (override or {}):
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage
