"""The chat request for one model turn of a run (SEMANTICS.md §3).

System message: the run's instructions (the override or the assistant's, with
``additional_instructions`` appended at creation). Then the thread's messages in order,
interleaved with the tool calls and outputs of earlier ``tool_calls`` steps, so the model sees
its own history. ``truncation_strategy`` then decides what is left out: ``last_messages: N``
keeps the N newest messages; ``auto`` (always applied last) drops the oldest history to fit the
model's context window and the run's remaining ``max_prompt_tokens``.

Images: a user message's ``image_url`` parts go as they are; its ``image_file`` parts whose file
is still there (``images``, found by the caller) stay ``image_file`` parts here, counted as
images, and the caller inlines the bytes of those the prompt kept (``runs/prompt_images``), so
only images that are sent are read. Assistant messages go without their images: chat
completions take only text (and refusals) in an assistant message, and an image code_interpreter
showed is already in the model's view as that call's output (``[N image(s) displayed to the
user]``). A marker such as ``[image file-…]`` in its own past replies would only invite the
model to write such markers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from assistantd import tokens
from assistantd.llm.chat import ChatRequest
from assistantd.tools.registry import ServerToolRegistry

log = logging.getLogger(__name__)

# Room kept for the reply when fitting a prompt into the context window (when the run sets no
# completion budget): an eighth of the window, at most this much.
MAX_REPLY_RESERVE = 4096
# A bound on one message's framing tokens, for the quick "surely fits" check.
FRAMING_BOUND = 16
IMAGE_PARTS = frozenset({"image_url", "image_file"})
_warned_missing: set[str] = set()


class PromptTooLong(Exception):
    """Even the newest message does not fit the run's remaining ``max_prompt_tokens``."""


@dataclass(frozen=True)
class HistoryMessage:
    seq: int
    data: dict[str, Any]


@dataclass(frozen=True)
class HistoryToolTurn:
    """A tool_calls step: after the message with ``message_seq``; ``calls`` as the model saw
    them: ``{id, name, arguments, output}``."""

    message_seq: int
    seq: int
    calls: list[dict[str, Any]]


@dataclass(frozen=True)
class Budget:
    context_window: int
    prompt_tokens: int | None = None  # what is left of max_prompt_tokens
    completion_tokens: int | None = None  # what is left of max_completion_tokens


@dataclass
class Prompt:
    request: ChatRequest
    server_tools: dict[str, dict[str, Any]] = field(default_factory=dict)  # chat name → tool


@dataclass
class _Unit:
    """What is kept or dropped as one: a message, or a tool call turn with its outputs."""

    is_message: bool
    position: int  # message seq (a tool turn: the seq of the message before it)
    messages: list[dict[str, Any]]


def build_prompt(
    run: dict[str, Any],
    history: list[HistoryMessage],
    tool_turns: list[HistoryToolTurn],
    budget: Budget,
    registry: ServerToolRegistry,
    images: Collection[str] = frozenset(),
) -> Prompt:
    """``images``: the ids of the files of ``image_file`` parts that still exist."""
    chat_tools, server_tools = _tools(run["tools"], registry)
    system = [{"role": "system", "content": run["instructions"]}] if run["instructions"] else []
    units = _units(history, tool_turns, images)
    units = _truncate_last_messages(units, run["truncation_strategy"])
    units = _fit(system, units, chat_tools, budget)
    request = ChatRequest(
        model=run["model"],
        messages=system + [message for unit in units for message in unit.messages],
        temperature=run.get("temperature"),
        top_p=run.get("top_p"),
        response_format=_response_format(run["response_format"]),
        max_tokens=budget.completion_tokens,
    )
    if chat_tools:
        request.tools = chat_tools
        request.tool_choice = _tool_choice(run["tool_choice"], server_tools)
        request.parallel_tool_calls = run["parallel_tool_calls"]
    return Prompt(request=request, server_tools=server_tools)


def _units(
    history: list[HistoryMessage], tool_turns: list[HistoryToolTurn], images: Collection[str]
) -> list[_Unit]:
    units = [
        _Unit(True, message.seq, [chat])
        for message in history
        if (chat := _chat_message(message.data, images)) is not None
    ]
    units += [
        _Unit(False, turn.message_seq, _tool_turn_messages(turn.calls))
        for turn in tool_turns
        if all(call.get("output") is not None for call in turn.calls) and turn.calls
    ]
    # A tool turn comes right after the message it followed (sort is stable: step order kept).
    units.sort(key=lambda unit: (unit.position, not unit.is_message))
    return units


def _truncate_last_messages(units: list[_Unit], strategy: dict[str, Any]) -> list[_Unit]:
    if strategy.get("type") != "last_messages":
        return units
    kept = [unit.position for unit in units if unit.is_message][-strategy["last_messages"] :]
    if not kept:
        return [unit for unit in units if not unit.is_message]
    first = kept[0]
    return [unit for unit in units if unit.position >= first]


def _fit(
    system: list[dict[str, Any]],
    units: list[_Unit],
    chat_tools: list[dict[str, Any]],
    budget: Budget,
) -> list[_Unit]:
    """Drop the oldest units until the prompt fits; counting tokens only when it may not."""
    reserve = budget.completion_tokens or min(budget.context_window // 8, MAX_REPLY_RESERVE)
    limit = budget.context_window - reserve
    if budget.prompt_tokens is not None:
        limit = min(limit, budget.prompt_tokens)
    if _upper_bound(system, units, chat_tools) <= limit:
        return units
    used = tokens.count_messages(system) + tokens.count_tools(chat_tools)
    kept: list[_Unit] = []
    for unit in reversed(units):
        cost = tokens.count_messages(unit.messages) - tokens.TOKENS_REPLY_PRIMING
        if used + cost > limit:
            break
        used += cost
        kept.append(unit)
    if not kept and units:
        if budget.prompt_tokens is not None and used + cost > budget.prompt_tokens:
            raise PromptTooLong
        kept.append(units[-1])  # too long for the window: let the model say so (invalid_prompt)
    kept.reverse()
    return kept


def _upper_bound(
    system: list[dict[str, Any]], units: list[_Unit], chat_tools: list[dict[str, Any]]
) -> int:
    """More tokens than the prompt can have: every token spans at least one UTF-8 byte, and an
    image counts as an image, never as the (base64) bytes of its URL."""
    messages = system + [message for unit in units for message in unit.messages]
    without_images = [_without_images(message) for message in messages]
    images = sum(
        len(message["content"]) - len(stripped["content"])
        for message, stripped in zip(messages, without_images, strict=True)
        if stripped is not message
    )
    size = len(json.dumps(without_images).encode()) + len(json.dumps(chat_tools).encode())
    return size + FRAMING_BOUND * (len(messages) + 1) + tokens.TOKENS_PER_IMAGE * images


def _without_images(message: dict[str, Any]) -> dict[str, Any]:
    """The message without its image parts (itself if it has none)."""
    content = message.get("content")
    if not isinstance(content, list) or not any(p.get("type") in IMAGE_PARTS for p in content):
        return message
    return {**message, "content": [p for p in content if p.get("type") not in IMAGE_PARTS]}


def _chat_message(message: dict[str, Any], images: Collection[str]) -> dict[str, Any] | None:
    user = message["role"] == "user"
    parts: list[dict[str, Any]] = []
    for part in message["content"]:
        if part["type"] == "text":
            parts.append({"type": "text", "text": part["text"]["value"]})
        elif part["type"] == "image_url" and user:
            parts.append({"type": "image_url", "image_url": dict(part["image_url"])})
        elif part["type"] == "image_file" and user and part["image_file"]["file_id"] in images:
            # A file deleted (or expired) since the message was written is left out and the
            # rest of the message kept, as a file_search or code_interpreter file that is gone
            # is: failing every later run of the thread for it would leave the user no way on
            # but deleting the message.
            parts.append({"type": "image_file", "image_file": dict(part["image_file"])})
    if not parts:
        return None
    if all(part["type"] == "text" for part in parts):
        return {"role": message["role"], "content": "".join(p["text"] for p in parts)}
    return {"role": message["role"], "content": parts}


def _tool_turn_messages(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assistant = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call["arguments"]},
                # As the backend gave it (Gemini 3 refuses its calls back without it).
                **({"extra_content": call["extra_content"]} if call.get("extra_content") else {}),
            }
            for call in calls
        ],
    }
    outputs = [
        {"role": "tool", "tool_call_id": call["id"], "content": call["output"]} for call in calls
    ]
    return [assistant, *outputs]


def _tools(
    tools: list[dict[str, Any]], registry: ServerToolRegistry
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Chat tools for the run's tools, and which chat names are server tools."""
    chat: list[dict[str, Any]] = []
    server: dict[str, dict[str, Any]] = {}
    for tool in tools:
        if tool["type"] == "function":
            function = {
                key: value
                for key, value in tool["function"].items()
                if key != "strict" or value  # many servers reject "strict": false
            }
            chat.append({"type": "function", "function": function})
            continue
        implementation = registry.get(tool["type"])
        if implementation is None:
            if tool["type"] not in _warned_missing:
                _warned_missing.add(tool["type"])
                log.warning("no %s tool is installed; runs go without it", tool["type"])
            continue
        definition = implementation.chat_function(tool)
        chat.append(definition)
        server[definition["function"]["name"]] = tool
    return chat, server


def _tool_choice(choice: Any, server_tools: dict[str, dict[str, Any]]) -> Any:
    if isinstance(choice, str):
        return choice
    if choice["type"] == "function":
        return {"type": "function", "function": {"name": choice["function"]["name"]}}
    for name, tool in server_tools.items():
        if tool["type"] == choice["type"]:
            return {"type": "function", "function": {"name": name}}
    return "auto"


def _response_format(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or value.get("type") == "text":
        return None
    return value
