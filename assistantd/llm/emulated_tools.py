"""Tool calling for a model without it: the tools go into the prompt, the model answers in the
text protocol of ``tool_protocol``, and its blocks come back as tool-call deltas.

    chunks = emulated_stream(backend.stream_chat, request)   # request.tools set

The backend gets the request without ``tools``/``tool_choice``/``parallel_tool_calls`` and its
history in the protocol's form. The text the model writes before its first block streams as
usual; the blocks never reach the client. A block that cannot be used (not JSON, an unknown
tool) is answered to the model with a ``<tool_error>`` and the model asked again, a bounded
number of times; then the call fails with an ``UpstreamError`` that says why.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field, replace

from assistantd.llm.chat import ChatChunk, ChatRequest, ToolCallDelta, Usage
from assistantd.llm.errors import UpstreamError
from assistantd.llm.tool_protocol import (
    ParsedCall,
    emulated_messages,
    error_block,
    parse_block,
    tools_section,
)
from assistantd.llm.tool_protocol_stream import ProtocolStream

Streamer = Callable[[ChatRequest], AsyncIterator[ChatChunk]]

# How many times a model whose calls could not be used is asked again before the call fails.
REASKS = 2


@dataclass
class _Attempt:
    """What one call to the backend produced."""

    written: list[str] = field(default_factory=list)  # all the model wrote, blocks included
    shown: list[str] = field(default_factory=list)  # the text held for the user (re-asks)
    calls: list[ParsedCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None


async def emulated_stream(stream: Streamer, request: ChatRequest) -> AsyncIterator[ChatChunk]:
    """``request`` (which offers tools) through ``stream`` with its tool calling emulated."""
    tools = request.tools or []
    names = [t["function"]["name"] for t in tools if t.get("function")]
    section = None
    if request.tool_choice != "none":  # "none": no tools this turn, but the history's calls
        section = tools_section(tools, request.tool_choice, request.parallel_tool_calls)
    messages = emulated_messages(request.messages, section)
    usage = Usage(0, 0, 0)
    problems: list[str] = []
    streamed = False  # whether the user has read any text yet
    for attempt_number in range(REASKS + 1):
        plain = replace(
            request, messages=messages, tools=None, tool_choice=None, parallel_tool_calls=None
        )
        attempt = _Attempt()
        # On a re-ask the model was told not to repeat its text: hold it back unless it
        # answers without a call after all.
        async with aclosing(_attempt(stream, plain, attempt, live=attempt_number == 0)) as texts:
            async for text in texts:
                streamed = True
                yield ChatChunk(text=text)
        usage = _added(usage, attempt.usage)
        problems = _problems(attempt.calls, names)
        if not problems:
            if not attempt.calls and attempt.shown:
                # An answer after all: it follows what the first attempt already streamed.
                yield ChatChunk(text=("\n\n" if streamed else "") + "".join(attempt.shown))
            yield _ending(attempt, usage)
            return
        messages = [
            *messages,
            {"role": "assistant", "content": "".join(attempt.written)},
            {"role": "user", "content": error_block(problems)},
        ]
    raise UpstreamError(
        "server_error",
        f"the model {request.model!r} wrote tool calls that could not be used, {REASKS + 1} "
        "times (tool calls are emulated for it: the route's tool_calling setting in "
        "ASSISTANTD_MODEL_ROUTES): " + "; ".join(problems),
    )


async def _attempt(
    stream: Streamer, request: ChatRequest, attempt: _Attempt, live: bool
) -> AsyncIterator[str]:
    """Stream one backend call into ``attempt``, yielding the text the user may read now."""
    parser = ProtocolStream()
    async with aclosing(stream(request)) as chunks:
        async for chunk in chunks:
            if chunk.text:
                attempt.written.append(chunk.text)
                if visible := parser.feed(chunk.text):
                    if live:
                        yield visible
                    else:
                        attempt.shown.append(visible)
            if chunk.finish_reason:
                attempt.finish_reason = chunk.finish_reason
            if chunk.usage is not None:
                attempt.usage = chunk.usage
    if rest := parser.close():
        if live:
            yield rest
        else:
            attempt.shown.append(rest)
    blocks = list(parser.blocks)
    if parser.unterminated is not None:
        blocks.append(parser.unterminated)
    attempt.calls = [parse_block(block) for block in blocks]


def _problems(calls: list[ParsedCall], names: list[str]) -> list[str]:
    """What is wrong with each unusable call, said to the model."""
    problems = []
    for number, call in enumerate(calls, 1):
        problem = call.problem
        if problem is None and call.name not in names:
            problem = f"there is no tool named {call.name!r} (the tools: {', '.join(names)})"
        if problem is not None:
            problems.append(f"Call {number}: {problem}. You wrote: {call.raw.strip()[:300]}")
    return problems


def _ending(attempt: _Attempt, usage: Usage) -> ChatChunk:
    if not attempt.calls:
        return ChatChunk(finish_reason=attempt.finish_reason or "stop", usage=usage)
    deltas = [
        ToolCallDelta(index, f"call_{uuid.uuid4().hex[:24]}", call.name, call.arguments)
        for index, call in enumerate(attempt.calls)
    ]
    return ChatChunk(tool_calls=deltas, finish_reason="tool_calls", usage=usage)


def _added(total: Usage, more: Usage | None) -> Usage:
    """Every attempt's tokens count: a re-ask is paid for too."""
    if more is None:
        return total
    return Usage(
        total.prompt_tokens + more.prompt_tokens,
        total.completion_tokens + more.completion_tokens,
        total.total_tokens + more.total_tokens,
    )
