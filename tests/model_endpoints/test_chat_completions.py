"""``client.chat.completions`` against assistantd, with the client and key of the Assistants
calls: whole and streamed answers, usage, tool calls, routes, upstream errors, metrics."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.model_endpoints.conftest import KeyedServer
from tests.runs.conftest import Scripted

HELLO = [{"role": "user", "content": "Hello?"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def test_a_completion_comes_whole_with_usage_and_a_request_id(
    project_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"text": "Hello there, friend."})
    raw = project_client.chat.completions.with_raw_response.create(model=model, messages=HELLO)
    completion = raw.parse()
    assert completion.object == "chat.completion"
    assert completion.model == model
    assert completion.choices[0].message.content == "Hello there, friend."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    assert raw.request_id and raw.request_id.startswith("req_")


def test_a_stream_relays_the_chunks_and_usage_when_asked(
    project_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"text": "One two three four"}, {"text": "Five six"})
    chunks = list(
        project_client.chat.completions.create(
            model=model, messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "One two three four"
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) >= 4
    assert {c.model for c in chunks} == {model}
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0

    # Not asked: no usage chunk (an app reading choices[0] of every chunk keeps working),
    # though assistantd asked the backend for usage to count tokens.
    plain = list(project_client.chat.completions.create(model=model, messages=HELLO, stream=True))
    assert all(c.choices for c in plain) and all(c.usage is None for c in plain)
    assert "".join(c.choices[0].delta.content or "" for c in plain) == "Five six"
    assert scripted.requests(model)[-1]["stream_options"] == {"include_usage": True}


def test_tools_and_unknown_fields_pass_through_and_calls_come_back(
    project_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    call = {"id": "call_oslo", "name": "get_weather", "arguments": {"city": "Oslo"}}
    scripted.script(model, {"tool_calls": [call]}, {"tool_calls": [call]})
    choice = {"type": "function", "function": {"name": "get_weather"}}
    completion = project_client.chat.completions.create(
        model=model, messages=HELLO, tools=[WEATHER_TOOL], tool_choice=choice,
        extra_body={"a_field_openai_adds_later": {"x": 1}},
    )  # fmt: skip
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls is not None
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        ("call_oslo", "get_weather", '{"city": "Oslo"}')
    ]
    sent = scripted.requests(model)[-1]
    assert sent["tools"] == [WEATHER_TOOL] and sent["tool_choice"] == choice
    assert sent["a_field_openai_adds_later"] == {"x": 1}

    streamed = list(
        project_client.chat.completions.create(
            model=model, messages=HELLO, tools=[WEATHER_TOOL], stream=True
        )
    )
    calls = [d for c in streamed if c.choices for d in c.choices[0].delta.tool_calls or ()]
    assert calls[0].id == "call_oslo" and calls[0].function.name == "get_weather"
    assert "".join(d.function.arguments or "" for d in calls) == '{"city": "Oslo"}'
    assert streamed[-1].choices[0].finish_reason == "tool_calls"


def test_a_routed_name_goes_upstream_under_the_routes_model(
    keyed_server: KeyedServer, project_client: openai.OpenAI, scripted: Scripted
) -> None:
    scripted.script(keyed_server.upstream, {"text": "Routed."}, {"text": "Routed stream."})
    completion = project_client.chat.completions.create(model=keyed_server.alias, messages=HELLO)
    assert completion.choices[0].message.content == "Routed."
    assert completion.model == keyed_server.alias  # the name the client asked for
    stream = project_client.chat.completions.create(
        model=keyed_server.alias, messages=HELLO, stream=True
    )
    assert {c.model for c in stream} == {keyed_server.alias}
    sent = scripted.requests(keyed_server.upstream)
    assert [body["model"] for body in sent] == [keyed_server.upstream] * 2


def test_upstream_errors_come_in_openais_shape(
    project_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    refused = {"message": "messages[0] is not allowed here", "param": "messages", "code": "bad"}
    scripted.script(model, {"status": 400, "error": refused})
    with pytest.raises(openai.BadRequestError) as bad:
        project_client.chat.completions.create(model=model, messages=HELLO)
    error = bad.value.response.json()["error"]
    assert error == {
        "message": "messages[0] is not allowed here", "type": "invalid_request_error",
        "param": "messages", "code": "bad",
    }  # fmt: skip

    # 5xx are retried (ASSISTANTD_LLM_MAX_RETRIES, 2) before the client hears of them.
    scripted.script(model, {"status": 503, "repeat": 2}, {"text": "Back again."})
    completion = project_client.chat.completions.create(model=model, messages=HELLO)
    assert completion.choices[0].message.content == "Back again."
    scripted.script(model, {"status": 500, "error": "boom", "repeat": 3})
    with pytest.raises(openai.InternalServerError) as failed:
        project_client.chat.completions.create(model=model, messages=HELLO)
    assert failed.value.response.status_code == 500
    assert failed.value.response.json()["error"]["type"] == "server_error"
    assert "boom" in failed.value.response.json()["error"]["message"]

    # Before the first byte a stream's failure is an HTTP error too.
    scripted.script(model, {"status": 404, "error": "The model does not exist"})
    with pytest.raises(openai.NotFoundError):
        project_client.chat.completions.create(model=model, messages=HELLO, stream=True)


def test_a_stream_failing_midway_ends_with_an_error_the_sdk_raises(
    project_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"text": "Partly", "stream_error": "the GPU caught fire"})
    received: list[str] = []
    with pytest.raises(openai.APIError) as failed:
        for chunk in project_client.chat.completions.create(
            model=model, messages=HELLO, stream=True
        ):
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "Partly"
    assert "the GPU caught fire" in failed.value.message

    # A dropped connection midway too.
    scripted.script(model, {"text": "one two three four five", "drop_after_chunks": 3})
    with pytest.raises(openai.APIError) as dropped:
        list(project_client.chat.completions.create(model=model, messages=HELLO, stream=True))
    assert "connection" in dropped.value.message or "ended early" in dropped.value.message


def test_requests_are_checked_with_openais_400(project_client: openai.OpenAI, model: str) -> None:
    cases = [
        ({"messages": HELLO}, "model"),
        ({"model": model}, "messages"),
        ({"model": model, "messages": "hi"}, "messages"),
        ({"model": model, "messages": [{"content": "no role"}]}, "messages[0]"),
        (
            {"model": model, "messages": HELLO, "stream_options": {"include_usage": True}},
            "stream_options",
        ),
    ]
    for body, param in cases:
        with pytest.raises(openai.BadRequestError) as bad:
            project_client.post("/chat/completions", body=body, cast_to=object)
        assert bad.value.response.json()["error"]["param"] == param, body


def test_model_calls_are_in_the_metrics(
    keyed_server: KeyedServer, project_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"text": "Counted."}, {"status": 400, "error": "no"})
    project_client.chat.completions.create(model=model, messages=HELLO)
    with pytest.raises(openai.BadRequestError):
        project_client.chat.completions.create(model=model, messages=HELLO)
    metrics = httpx.get(f"{keyed_server.base}/metrics").text
    assert f'assistantd_model_call_duration_seconds_count{{model="{model}"}} 2.0' in metrics
    assert (
        f'assistantd_model_call_errors_total{{code="invalid_request_error",model="{model}"}} 1.0'
        in metrics
    )
