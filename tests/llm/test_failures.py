"""How upstream failures surface: retried where safe, then mapped to a run's error codes."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from assistantd.llm import OpenAICompatibleBackend, UpstreamError
from assistantd.scripted_model.testing import ScriptedModelClient, running_scripted_model
from tests.llm.collecting import Assembled, ask, assemble

# A deadline to fail a test that would otherwise hang (the bug it guards against), not a speed
# requirement.
GIVE_UP_SECONDS = 30


async def _failure(backend: OpenAICompatibleBackend, model: str) -> UpstreamError:
    with pytest.raises(UpstreamError) as raised:
        await assemble(backend, ask(model))
    return raised.value


async def test_429_then_success_retries_once(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(
        model, {"status": 429, "headers": {"Retry-After": "0"}}, {"text": "made it"}
    )
    assembled = await assemble(backend, ask(model))
    assert "".join(assembled.texts) == "made it"
    assert len(await scripted.requests(model)) == 2


async def test_429_forever_is_rate_limit_exceeded(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"status": 429, "headers": {"Retry-After": "0"}, "repeat": 10})
    error = await _failure(backend, model)
    assert error.code == "rate_limit_exceeded"
    assert len(await scripted.requests(model)) == 3  # the first try and max_retries=2


async def test_500_is_retried_then_server_error(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"status": 500, "error": "boom", "repeat": 10})
    error = await _failure(backend, model)
    assert error.code == "server_error"
    assert "boom" in error.message
    assert len(await scripted.requests(model)) == 3


async def test_500_then_success_recovers(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"status": 503}, {"text": "fine"})
    assert "".join((await assemble(backend, ask(model))).texts) == "fine"


async def test_hang_times_out_as_server_error(
    scripted_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    backend = OpenAICompatibleBackend(
        scripted_url, timeout_seconds=0.3, max_retries=1, backoff_seconds=0.01
    )
    await scripted.script(model, {"hang": True, "repeat": 2})
    try:
        error = await _failure(backend, model)
    finally:
        await backend.aclose()
    assert error.code == "server_error"
    assert "timed out" in error.message
    assert len(await scripted.requests(model)) == 2


async def test_drop_mid_stream_fails_at_once(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"text": "one two three", "drop_after_chunks": 3}, {"text": "x"})
    error = await _failure(backend, model)
    assert error.code == "server_error"
    assert len(await scripted.requests(model)) == 1  # text was out: a retry would repeat it


async def test_drop_before_any_text_is_retried(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"text": "lost", "drop_after_chunks": 0}, {"text": "second"})
    assert "".join((await assemble(backend, ask(model))).texts) == "second"


async def test_a_request_lost_on_a_closing_connection_is_sent_again_at_once(
    scripted_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    """A server closes an idle pooled connection as a request goes out on it (uvicorn does
    after 5 s): the request never arrived, so it goes again on a fresh connection, without
    waiting out the backoff (an hour here)."""
    await scripted.script(model, {"text": "arrived"})
    upstream = urlsplit(scripted_url)
    connections = 0

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            await reader.read(1)  # the request starts to arrive, and the connection closes
            writer.close()
            return
        model_reader, model_writer = await asyncio.open_connection(upstream.hostname, upstream.port)
        await asyncio.gather(_pipe(reader, model_writer), _pipe(model_reader, writer))

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    backend = OpenAICompatibleBackend(
        f"http://127.0.0.1:{port}{upstream.path}", max_retries=1, backoff_seconds=3600
    )
    try:
        assembled = await asyncio.wait_for(assemble(backend, ask(model)), timeout=30)
    finally:
        await backend.aclose()
        server.close()
    assert "".join(assembled.texts) == "arrived"
    assert connections == 2


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def test_context_length_error_is_invalid_prompt(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    error = {
        "message": "This model's maximum context length is 8192 tokens.",
        "code": "context_length_exceeded",
    }
    await scripted.script(model, {"status": 400, "error": error})
    failure = await _failure(backend, model)
    assert failure.code == "invalid_prompt"
    assert len(await scripted.requests(model)) == 1


async def test_prompt_over_the_servers_context_window_is_invalid_prompt(model: str) -> None:
    with running_scripted_model(context_window=50) as base_url:
        backend = OpenAICompatibleBackend(base_url, max_retries=2)
        try:
            with pytest.raises(UpstreamError) as raised:
                await assemble(backend, ask(model, "word " * 200))
            short = await assemble(backend, ask(model, "short"))
        finally:
            await backend.aclose()
    assert raised.value.code == "invalid_prompt"
    assert "maximum context length is 50" in raised.value.message
    assert "".join(short.texts) == "Echo: short"


async def test_other_4xx_is_server_error_with_upstreams_message(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"status": 400, "error": "Invalid value for 'tool_choice'."})
    error = await _failure(backend, model)
    assert error.code == "server_error"
    assert "Invalid value for 'tool_choice'." in error.message
    assert len(await scripted.requests(model)) == 1


async def test_unreachable_endpoint_is_server_error(model: str) -> None:
    backend = OpenAICompatibleBackend(
        "http://127.0.0.1:9/v1", connect_timeout_seconds=0.5, max_retries=1, backoff_seconds=0.01
    )
    try:
        error = await _failure(backend, model)
    finally:
        await backend.aclose()
    assert error.code == "server_error"


@pytest.mark.parametrize(
    ("chunk", "named"),
    [
        ({"choices": "notalist"}, "choices"),
        ({"choices": ["notanobject"]}, "choices[0]"),
        ({"choices": [{"delta": "notanobject"}]}, "delta"),
        ({"choices": [{"delta": {"content": 42}}]}, "content"),
        ({"choices": [{"delta": {"tool_calls": {"index": 0}}}]}, "tool_calls"),
        ({"choices": [{"delta": {"tool_calls": ["notanobject"]}}]}, "tool_calls[0]"),
        ({"choices": [{"delta": {"tool_calls": [{"index": "x"}]}}]}, "index"),
        ({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": "f"}]}}]}, "function"),
        ({"choices": [{"delta": {}, "finish_reason": 7}]}, "finish_reason"),
        ({"choices": [], "usage": {"prompt_tokens": "many"}}, "usage"),
    ],
)
async def test_a_chunk_of_an_unexpected_shape_is_the_upstreams_fault(
    backend: OpenAICompatibleBackend,
    scripted: ScriptedModelClient,
    model: str,
    chunk: dict[str, object],
    named: str,
) -> None:
    await scripted.script(model, {"raw_chunks": [chunk], "repeat": 3})
    error = await _failure(backend, model)
    assert error.code == "server_error"
    assert "malformed chunk" in error.message
    assert named in error.message


async def test_null_fields_in_a_chunk_are_not_malformed(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    nulls = {"choices": [{"delta": {"content": None, "tool_calls": None}, "finish_reason": None}]}
    text = {"choices": [{"delta": {"content": "ok"}, "finish_reason": "stop"}], "usage": None}
    await scripted.script(model, {"raw_chunks": [{"choices": None}, nulls, text]})
    assembled = await assemble(backend, ask(model))
    assert "".join(assembled.texts) == "ok"
    assert assembled.finish_reason == "stop"


async def test_a_stream_of_keep_alive_comments_alone_times_out(
    scripted_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    """Comments are bytes on the wire but no progress: silence between events is what counts."""
    backend = OpenAICompatibleBackend(scripted_url, timeout_seconds=0.5, max_retries=0)
    await scripted.script(model, {"text": "", "comments_every_ms": 50})
    try:
        error = await asyncio.wait_for(_failure(backend, model), GIVE_UP_SECONDS)
    finally:
        await backend.aclose()
    assert error.code == "server_error"
    assert "timed out" in error.message


async def test_a_stream_that_never_ends_times_out_as_a_whole(
    scripted_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    backend = OpenAICompatibleBackend(
        scripted_url, timeout_seconds=0.5, total_timeout_seconds=1.5, max_retries=2
    )
    await scripted.script(model, {"text": "on and on", "endless": True, "chunk_delay_ms": 20})
    assembled = Assembled()
    try:
        with pytest.raises(UpstreamError) as raised:
            await asyncio.wait_for(assemble(backend, ask(model), into=assembled), GIVE_UP_SECONDS)
    finally:
        await backend.aclose()
    assert raised.value.code == "server_error"
    assert "timed out" in raised.value.message
    assert "1.5" in raised.value.message  # says which bound it hit
    assert len(assembled.texts) > 10  # it was streaming all along
    assert len(await scripted.requests(model)) == 1


async def test_the_whole_call_bounds_the_retries_too(
    scripted_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    """Waiting for the response counts: hanging attempts retried stop at the overall bound."""
    backend = OpenAICompatibleBackend(
        scripted_url, timeout_seconds=0.6, total_timeout_seconds=1.0, max_retries=5,
        backoff_seconds=0.01,
    )  # fmt: skip
    await scripted.script(model, {"hang": True, "repeat": 6})
    try:
        error = await asyncio.wait_for(_failure(backend, model), GIVE_UP_SECONDS)
    finally:
        await backend.aclose()
    assert error.code == "server_error"
    assert "timed out" in error.message
    assert len(await scripted.requests(model)) == 2
