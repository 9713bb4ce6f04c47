"""Draining a chat stream into what a run engine would assemble from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistantd.llm import ChatChunk, ChatRequest, ModelBackend, Usage


@dataclass
class Assembled:
    texts: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, str]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: Usage | None = None

    def add(self, chunk: ChatChunk) -> None:
        if chunk.text:
            self.texts.append(chunk.text)
        for delta in chunk.tool_calls:
            call = self.calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] = delta.id or call["id"]
            call["name"] = delta.name or call["name"]
            call["arguments"] += delta.arguments
        self.finish_reason = chunk.finish_reason or self.finish_reason
        self.usage = chunk.usage or self.usage


async def assemble(
    backend: ModelBackend, request: ChatRequest, into: Assembled | None = None
) -> Assembled:
    assembled = into if into is not None else Assembled()
    async for chunk in backend.stream_chat(request):
        assembled.add(chunk)
    return assembled


def ask(model: str, text: str = "Hello") -> ChatRequest:
    return ChatRequest(model=model, messages=[{"role": "user", "content": text}])
