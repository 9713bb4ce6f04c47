"""A consumer that stops early frees the upstream connection at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from assistantd.llm import ChatChunk, OpenAICompatibleBackend
from assistantd.scripted_model.testing import ScriptedModelClient
from tests.llm.collecting import ask, assemble

# Far longer than the test: the stream is only over if the client closed it.
_SLOW_STREAM = {"chunks": [f"w{i} " for i in range(50)], "chunk_delay_ms": 200}


def _single_connection_backend(base_url: str) -> OpenAICompatibleBackend:
    # With one pooled connection, the next request can only start if the abandoned stream's
    # response was closed; otherwise it waits for the pool and times out.
    return OpenAICompatibleBackend(base_url, timeout_seconds=1.0, max_retries=0, max_connections=1)


async def _first_chunk(stream: AsyncIterator[ChatChunk]) -> ChatChunk:
    async for chunk in stream:
        if chunk.text:
            return chunk
    raise AssertionError("no text arrived")


async def test_aclose_releases_the_connection(
    scripted_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    backend = _single_connection_backend(scripted_url)
    await scripted.script(model, _SLOW_STREAM, {"text": "next"})
    try:
        stream = backend.stream_chat(ask(model))
        assert (await _first_chunk(stream)).text == "w0 "
        await stream.aclose()  # type: ignore[attr-defined]
        assert "".join((await assemble(backend, ask(model))).texts) == "next"
    finally:
        await backend.aclose()


async def test_cancelled_task_releases_the_connection(
    scripted_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    backend = _single_connection_backend(scripted_url)
    await scripted.script(model, _SLOW_STREAM, {"text": "next"})
    started = asyncio.Event()

    async def consume() -> None:
        async for chunk in backend.stream_chat(ask(model)):
            if chunk.text:
                started.set()

    try:
        task = asyncio.create_task(consume())
        await started.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert "".join((await assemble(backend, ask(model))).texts) == "next"
    finally:
        await backend.aclose()
