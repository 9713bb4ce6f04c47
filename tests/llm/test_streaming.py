"""Streaming through the OpenAI-compatible backend against the scripted model over real HTTP."""

from __future__ import annotations

import json

import pytest

from assistantd import tokens
from assistantd.llm import ChatRequest, OpenAICompatibleBackend, UpstreamError
from assistantd.scripted_model.testing import ScriptedModelClient
from tests.llm.collecting import Assembled, ask, assemble


async def test_text_arrives_chunk_by_chunk(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"chunks": ["Hel", "lo", ", wor", "ld"]})
    assembled = await assemble(backend, ask(model))
    assert assembled.texts == ["Hel", "lo", ", wor", "ld"]
    assert assembled.finish_reason == "stop"


async def test_chunks_are_yielded_before_the_stream_ends(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    # The server sends the role chunk and "Hello", then drops: "Hello" must already be ours.
    await scripted.script(model, {"text": "Hello big world", "drop_after_chunks": 2})
    assembled = Assembled()
    with pytest.raises(UpstreamError) as raised:
        await assemble(backend, ask(model), into=assembled)
    assert assembled.texts == ["Hello"]
    assert raised.value.code == "server_error"


async def test_parallel_tool_calls_assemble(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(
        model,
        {
            "tool_calls": [
                {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}},
                {"name": "get_time", "arguments": '{"timezone": "Europe/Paris"}'},
            ]
        },
    )
    assembled = await assemble(backend, ask(model, "weather and time?"))
    assert assembled.finish_reason == "tool_calls"
    assert [c["name"] for c in assembled.calls.values()] == ["get_weather", "get_time"]
    assert json.loads(assembled.calls[0]["arguments"]) == {"city": "Paris", "unit": "celsius"}
    assert json.loads(assembled.calls[1]["arguments"]) == {"timezone": "Europe/Paris"}
    ids = {c["id"] for c in assembled.calls.values()}
    assert len(ids) == 2 and all(ids)


async def test_usage_comes_from_upstream(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(
        model, {"text": "ok", "usage": {"prompt_tokens": 11, "completion_tokens": 7}}
    )
    assembled = await assemble(backend, ask(model))
    assert assembled.usage is not None
    assert (assembled.usage.prompt_tokens, assembled.usage.completion_tokens) == (11, 7)
    assert assembled.usage.total_tokens == 18


async def test_usage_is_estimated_when_upstream_sends_none(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"text": "four words of reply", "send_usage": False})
    request = ask(model, "count my tokens please")
    assembled = await assemble(backend, request)
    assert assembled.usage is not None
    assert assembled.usage.prompt_tokens == tokens.count_messages(request.messages)
    assert assembled.usage.completion_tokens == tokens.count("four words of reply")


async def test_request_sends_set_fields_only_and_asks_for_usage(
    backend: OpenAICompatibleBackend, scripted: ScriptedModelClient, model: str
) -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    request = ChatRequest(
        model=model,
        messages=[{"role": "user", "content": "hi"}],
        tools=[tool],
        tool_choice="auto",
        temperature=0.5,
    )
    await assemble(backend, request)
    [body] = await scripted.requests(model)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["tools"] == [tool]
    assert body["temperature"] == 0.5
    assert "top_p" not in body and "max_tokens" not in body and "response_format" not in body


async def test_default_reply_echoes_the_user(backend: OpenAICompatibleBackend, model: str) -> None:
    assembled = await assemble(backend, ask(model, "are you there"))
    assert "".join(assembled.texts) == "Echo: are you there"
