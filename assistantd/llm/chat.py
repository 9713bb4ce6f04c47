"""The model-call interface the run engine uses: requests, streamed chunks, the backend protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from assistantd.llm.request_shape import RequestShape


@dataclass
class ChatRequest:
    """One chat-completions call. Fields left as None are not sent upstream."""

    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    response_format: dict[str, Any] | None = None
    max_tokens: int | None = None
    reasoning_effort: str | None = None  # low / medium / high, for reasoning models


@dataclass
class ToolCallDelta:
    """A piece of a tool call; ``id`` and ``name`` come once, ``arguments`` is a fragment."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    # What the backend attached to the call for itself (Gemini 3's ``extra_content.google
    # .thought_signature``): kept with the call and sent back with it, never shown to clients.
    extra_content: dict[str, Any] | None = None


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


@dataclass(slots=True)
class ChatChunk:
    """What arrived in one streamed event. The last chunk carries ``usage``."""

    text: str | None = None
    # A tuple when empty (most chunks: one per token, so no new list each).
    tool_calls: Sequence[ToolCallDelta] = ()
    finish_reason: str | None = None
    usage: Usage | None = None


class ModelBackend(Protocol):
    def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Yield chunks as the model produces them; raises ``UpstreamError`` on failure."""
        ...

    async def list_models(self) -> list[str]: ...

    def shape_of(self, model: str) -> RequestShape:
        """What the backend has learned (or been pinned) about ``model``'s requests."""
        ...

    def learn_shape(self, model: str, shape: RequestShape) -> None: ...

    async def aclose(self) -> None: ...
