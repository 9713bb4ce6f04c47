"""The scripted model speaks chat completions the way the OpenAI SDK expects."""

from __future__ import annotations

import json

import openai
import pytest

from assistantd.scripted_model.testing import ScriptedModelClient, running_scripted_model

USER = [{"role": "user", "content": "hello there"}]


async def _stream(sdk: openai.AsyncOpenAI, model: str, messages: list[dict] = USER) -> list:
    stream = await sdk.chat.completions.create(
        model=model, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    return [chunk async for chunk in stream]


async def test_default_reply_echoes_word_by_word(sdk: openai.AsyncOpenAI, model: str) -> None:
    chunks = await _stream(sdk, model)
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert texts == ["Echo:", " hello", " there"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


async def test_default_reply_to_a_tool_result(sdk: openai.AsyncOpenAI, model: str) -> None:
    messages = [
        *USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "42 degrees"},
    ]
    reply = await sdk.chat.completions.create(model=model, messages=messages)
    assert reply.choices[0].message.content == "Tool result: 42 degrees"


async def test_scripted_text_and_explicit_chunks(
    sdk: openai.AsyncOpenAI, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"chunks": ["ab", "cd"]}, {"text": "whole reply", "repeat": 2})
    chunks = await _stream(sdk, model)
    assert [c.choices[0].delta.content for c in chunks if c.choices][1:3] == ["ab", "cd"]
    for _ in range(2):
        reply = await sdk.chat.completions.create(model=model, messages=USER)
        assert reply.choices[0].message.content == "whole reply"
    reply = await sdk.chat.completions.create(model=model, messages=USER)
    assert reply.choices[0].message.content == "Echo: hello there"  # the script ran out


async def test_parallel_tool_calls_stream_as_deltas(
    sdk: openai.AsyncOpenAI, scripted: ScriptedModelClient, model: str
) -> None:
    calls = [{"name": "a", "arguments": {"long": "x" * 40}}, {"name": "b", "arguments": "{}"}]
    await scripted.script(model, {"tool_calls": calls})
    chunks = await _stream(sdk, model)
    deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or ()]
    heads = [d for d in deltas if d.id]
    assert [(d.index, d.function.name) for d in heads] == [(0, "a"), (1, "b")]
    first_args = "".join(d.function.arguments or "" for d in deltas if d.index == 0)
    assert json.loads(first_args) == {"long": "x" * 40}
    assert sum(1 for d in deltas if d.index == 0) > 2  # arguments came in fragments
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


async def test_non_streamed_tool_calls_and_finish_reason(
    sdk: openai.AsyncOpenAI, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"tool_calls": [{"name": "f", "arguments": {"q": 1}}]})
    await scripted.script(model, {"text": "cut", "finish_reason": "length"})
    reply = await sdk.chat.completions.create(model=model, messages=USER)
    [call] = reply.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("f", {"q": 1})
    reply = await sdk.chat.completions.create(model=model, messages=USER)
    assert reply.choices[0].finish_reason == "length"


async def test_usage_override(
    sdk: openai.AsyncOpenAI, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(
        model, {"text": "x", "usage": {"prompt_tokens": 5, "completion_tokens": 2}}
    )
    reply = await sdk.chat.completions.create(model=model, messages=USER)
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (
        5,
        2,
        7,
    )


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (400, openai.BadRequestError),
    ],
)
async def test_scripted_error_status(
    sdk: openai.AsyncOpenAI,
    scripted: ScriptedModelClient,
    model: str,
    status: int,
    error_class: type[openai.APIStatusError],
) -> None:
    await scripted.script(model, {"status": status, "error": "scripted failure"})
    with pytest.raises(error_class) as raised:
        await sdk.chat.completions.create(model=model, messages=USER)
    assert raised.value.status_code == status
    assert "scripted failure" in raised.value.message


async def test_dropped_stream_is_an_sdk_error(
    sdk: openai.AsyncOpenAI, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"text": "a b c d", "drop_after_chunks": 2})
    with pytest.raises(openai.APIError):
        await _stream(sdk, model)


async def test_requests_are_recorded_and_clear_resets(
    sdk: openai.AsyncOpenAI, scripted: ScriptedModelClient, model: str
) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    await sdk.chat.completions.create(model=model, messages=USER, tools=tools)
    [body] = await scripted.requests(model)
    assert body["messages"] == USER and body["tools"] == tools
    await scripted.script(model, {"text": "never used"})
    await scripted.clear(model)
    assert await scripted.requests(model) == []
    reply = await sdk.chat.completions.create(model=model, messages=USER)
    assert reply.choices[0].message.content == "Echo: hello there"


async def test_a_typo_in_a_step_is_rejected(scripted: ScriptedModelClient, model: str) -> None:
    with pytest.raises(Exception, match="400"):
        await scripted.script(model, {"txet": "oops"})


async def test_server_options_pad_and_limit_the_context(model: str) -> None:
    with running_scripted_model(reply_words=12, context_window=40) as base_url:
        sdk = openai.AsyncOpenAI(base_url=base_url, api_key="sk-test", max_retries=0)
        try:
            reply = await sdk.chat.completions.create(model=model, messages=USER)
            assert len(reply.choices[0].message.content.split()) == 12
            assert reply.choices[0].message.content.startswith("Echo: hello there ")
            with pytest.raises(openai.BadRequestError) as raised:
                await sdk.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": "many words " * 50}]
                )
        finally:
            await sdk.close()
    assert raised.value.code == "context_length_exceeded"
