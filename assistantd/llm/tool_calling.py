"""A route's ``tool_calling`` setting: native tool calls, emulated ones, or native until the
backend refuses tools (``auto``), then emulated for that backend and model from then on.

    chunks = tool_calling_stream("auto", backend, request)
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from typing import Literal

from assistantd.llm.chat import ChatChunk, ChatRequest, ModelBackend
from assistantd.llm.emulated_tools import emulated_stream
from assistantd.llm.errors import UpstreamError
from assistantd.llm.tool_protocol import emulated_messages

log = logging.getLogger(__name__)

ToolCalling = Literal["native", "emulated", "auto"]

# How servers say a model has no tool calling: Ollama, vLLM without a tool parser, others.
_REFUSALS = ("does not support tools", "enable-auto-tool-choice", "tool-call-parser")
_REFUSAL_STATUSES = ("(400)", "(422)")


def refuses_tools(error: UpstreamError) -> bool:
    """Whether ``error`` is a backend's 400/422 saying the model cannot take tools."""
    said = error.message.lower()
    if not any(status in said for status in _REFUSAL_STATUSES):
        return False
    if any(marker in said for marker in _REFUSALS):
        return True
    return "tool" in said and any(
        words in said for words in ("not support", "unsupported", "not supported")
    )


async def tool_calling_stream(
    mode: ToolCalling, backend: ModelBackend, request: ChatRequest
) -> AsyncIterator[ChatChunk]:
    """``request`` through ``backend`` as ``mode`` says. A model found to refuse tools is
    remembered in the backend's request shape for it (``tools=False``), so it is not asked
    again."""
    stream = backend.stream_chat
    emulate = mode == "emulated" or (mode == "auto" and not backend.shape_of(request.model).tools)
    if emulate and not request.tools:
        # No tools this turn, but earlier turns' calls must still reach the model as text.
        request = replace(request, messages=emulated_messages(request.messages, None))
    elif emulate:
        async with aclosing(emulated_stream(stream, request)) as chunks:
            async for chunk in chunks:
                yield chunk
        return
    yielded = False
    try:
        async with aclosing(stream(request)) as chunks:
            async for chunk in chunks:
                yielded = True
                yield chunk
        return
    except UpstreamError as error:
        if yielded or not request.tools or not refuses_tools(error):
            raise
        if mode == "native":
            raise UpstreamError(
                error.code,
                f"{error.message} (the model refuses tools and its route's tool_calling is "
                '"native": set "tool_calling": "emulated" or "auto" on its route in '
                "ASSISTANTD_MODEL_ROUTES to have assistantd emulate tool calls)",
            ) from error
        shape = backend.shape_of(request.model)
        if shape.tools:
            log.warning(
                "%s refuses tools (%s): emulating tool calls for it from now on",
                request.model,
                error.message,
            )
            backend.learn_shape(request.model, replace(shape, tools=False))
    async with aclosing(emulated_stream(stream, request)) as chunks:
        async for chunk in chunks:
            yield chunk
