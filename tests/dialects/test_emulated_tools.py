"""Function calling through the official SDK against a model with no tool calling at all
(scripted with ``supports_tools: false``: requests offering tools are refused as its server
would): under ``tool_calling: auto`` assistantd falls back to emulating tool calls, under
``emulated`` it never offers tools natively, under ``native`` the run fails saying which setting
to change. The model writes its calls in the text protocol; the client sees tool calls."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.runs.conftest import Scripted, weather_outputs
from tests.streaming.test_sdk_streams import WEATHER, Recorder
from tests.tools.code_interpreter.conftest import needs_sandbox
from tests.tools.test_file_search_runs import CONTENT, REFUNDS, indexed_store

EMULATED = f"emulated-{uuid.uuid4().hex[:8]}"
NATIVE = f"native-{uuid.uuid4().hex[:8]}"
PROSE = "Let me check both cities."
PARIS = {"id": "call_paris", "name": "get_weather", "arguments": {"city": "Paris"}}
ROME = {"id": "call_rome", "name": "get_weather", "arguments": {"city": "Rome"}}
ANSWER = "Paris is sunny, Rome is rainy."
USAGE = {"prompt_tokens": 120, "completion_tokens": 7}


@pytest.fixture(scope="module")
def routed_client(
    scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory, contract_log: ContractLog
) -> Iterator[openai.OpenAI]:
    """A server with a route of each ``tool_calling`` setting to the scripted model."""
    routes = {
        EMULATED: {"base_url": scripted_model_url, "tool_calling": "emulated"},
        NATIVE: {"base_url": scripted_model_url, "tool_calling": "native"},
    }
    data_dir = tmp_path_factory.mktemp("emulated-tools")
    with (
        fresh_database("sqlite", data_dir) as url,
        running_server(make_settings(data_dir, url, model_routes=routes)) as base,
    ):
        yield sdk_client(base, contract_log)


@pytest.fixture
def model() -> str:
    """A model of this test's own on the default endpoint (so under ``auto``)."""
    return f"no-tools-{uuid.uuid4().hex[:8]}"


def _weather_run(client: openai.OpenAI, model: str) -> tuple[Any, Any, Recorder]:
    assistant = client.beta.assistants.create(
        model=model, instructions="Be terse.", tools=[WEATHER]
    )
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Weather?"}])
    handler = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=handler
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
    return thread, run, handler


def _parallel_calls_then_answer(client: openai.OpenAI, scripted: Scripted, model: str) -> None:
    thread, run, handler = _weather_run(client, model)
    assert run.status == "requires_action", run.last_error
    # The prose written before the calls streamed; the protocol never reached the client.
    assert "".join(handler.deltas) == PROSE
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Rome"}),
    ]
    ids = [c.id for c in calls]
    assert len(set(ids)) == 2 and all(i.startswith("call_") for i in ids)
    # (The SDK may report a call done more than once.)
    assert {c.id: json.loads(c.function.arguments) for c in handler.tool_calls_done} == {
        ids[0]: {"city": "Paris"},
        ids[1]: {"city": "Rome"},
    }

    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=weather_outputs((ids[0], ids[1])),
    )
    assert run.status == "completed", run.last_error
    messages = client.beta.threads.messages.list(thread_id=thread.id, order="asc").data
    texts = [m.content[0].text.value for m in messages if m.role == "assistant"]
    assert texts == [PROSE, ANSWER]
    assert not any("<tool_call>" in text for text in texts)

    # What the model was sent: no tools field; the tools in the prompt; the outputs as text.
    sent = [r for r in scripted.requests(model) if "tools" not in r]
    assert len(sent) == 2
    system = sent[0]["messages"][0]
    assert system["role"] == "system" and "get_weather" in system["content"]
    last = sent[1]["messages"][-1]
    assert last["role"] == "user"
    assert f'<tool_result id="{ids[0]}" name="get_weather">\nsunny' in last["content"]
    assert f'<tool_result id="{ids[1]}" name="get_weather">\nrainy' in last["content"]


def _script_calls(scripted: Scripted, model: str) -> None:
    step = {"text": PROSE, "tool_calls": [PARIS, ROME]}
    scripted.script(model, step, {"text": ANSWER}, dialect="ollama", supports_tools=False)


def test_auto_falls_back_to_emulation_when_the_backend_refuses_tools(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    _script_calls(scripted, model)
    _parallel_calls_then_answer(client, scripted, model)
    # Refused once; remembered, so the second turn was emulated at once.
    assert sum("tools" in r for r in scripted.requests(model)) == 1


def test_an_emulated_route_never_offers_tools_natively(
    routed_client: openai.OpenAI, scripted: Scripted
) -> None:
    _script_calls(scripted, EMULATED)
    _parallel_calls_then_answer(routed_client, scripted, EMULATED)
    assert not any("tools" in r for r in scripted.requests(EMULATED))


def test_a_malformed_call_is_answered_as_an_error_and_repaired(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    broken = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"\n</tool_call>'
    scripted.script(
        model,
        {"chunks": [f"{PROSE}\n\n", broken]},
        {"tool_calls": [PARIS]},
        dialect="vllm",
        supports_tools=False,
    )
    _, run, handler = _weather_run(client, model)
    assert run.status == "requires_action", run.last_error
    assert "".join(handler.deltas) == PROSE
    [call] = run.required_action.submit_tool_outputs.tool_calls
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    reask = scripted.requests(model)[-1]["messages"]
    assert reask[-2] == {"role": "assistant", "content": f"{PROSE}\n\n{broken}"}
    assert reask[-1]["role"] == "user" and "<tool_error>" in reask[-1]["content"]
    assert "not valid JSON" in reask[-1]["content"]


def test_a_reask_answered_without_a_call_becomes_the_answer(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    broken = "<tool_call>\nget_weather(Paris)\n</tool_call>"
    scripted.script(
        model,
        {
            "chunks": [f"{PROSE}\n\n", broken],
            "usage": {"prompt_tokens": 100, "completion_tokens": 9},
        },
        {"text": "No tool is needed: it is summer.", "usage": USAGE},
        supports_tools=False,
    )
    _, run, handler = _weather_run(client, model)
    assert run.status == "completed", run.last_error
    answer = f"{PROSE}\n\nNo tool is needed: it is summer."
    assert "".join(handler.deltas) == answer
    [message] = client.beta.threads.messages.list(thread_id=run.thread_id, run_id=run.id).data
    assert message.content[0].text.value == answer
    # Both calls' tokens are the run's.
    assert (run.usage.prompt_tokens, run.usage.completion_tokens) == (220, 16)


def test_calls_still_unusable_after_the_reasks_fail_the_run(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    unknown = {"tool_calls": [{"name": "get_forecast", "arguments": {"city": "Paris"}}]}
    scripted.script(model, unknown, unknown, unknown, supports_tools=False)
    _, run, handler = _weather_run(client, model)
    assert run.status == "failed"
    assert run.last_error.code == "server_error"
    assert "emulated" in run.last_error.message and "get_forecast" in run.last_error.message
    assert handler.deltas == []


def test_a_native_route_to_a_model_refusing_tools_fails_naming_the_setting(
    routed_client: openai.OpenAI, scripted: Scripted
) -> None:
    _script_calls(scripted, NATIVE)
    _, run, _ = _weather_run(routed_client, NATIVE)
    assert run.status == "failed"
    assert "does not support tools" in run.last_error.message
    assert "tool_calling" in run.last_error.message


def test_file_search_emulated_answers_with_a_citation(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    refunds = client.files.create(file=("refunds.txt", REFUNDS.encode()), purpose="assistants").id
    store_id = indexed_store(client, refunds)
    assistant = client.beta.assistants.create(
        model=model,
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store_id]}},
    )
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": "How long do refunds take?"}]
    )
    scripted.script(
        model,
        {"tool_calls": [{"name": "file_search", "arguments": {"queries": ["refund days"]}}]},
        {"text": "Within 14 days 【0:0†refunds.txt】."},
        supports_tools=False,
    )
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, include=[CONTENT]
    )
    assert run.status == "completed", run.last_error
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    [citation] = message.content[0].text.annotations
    assert citation.type == "file_citation" and citation.file_citation.file_id == refunds
    last = scripted.requests(model)[-1]
    assert "tools" not in last
    assert "within 14 days" in last["messages"][-1]["content"]
    assert "<tool_result" in last["messages"][-1]["content"]


@needs_sandbox
def test_code_interpreter_emulated_runs_the_models_code(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    assistant = client.beta.assistants.create(model=model, tools=[{"type": "code_interpreter"}])
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Six times seven?"}])
    scripted.script(
        model,
        {"tool_calls": [{"name": "code_interpreter", "arguments": {"code": "print(6 * 7)"}}]},
        {"text": "It is 42."},
        supports_tools=False,
    )
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed", run.last_error
    steps = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    [call] = [c for s in steps if s.type == "tool_calls" for c in s.step_details.tool_calls]
    assert call.code_interpreter.input == "print(6 * 7)"
    logs = "".join(o.logs for o in call.code_interpreter.outputs if o.type == "logs")
    assert logs == "42\n"
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert message.content[0].text.value == "It is 42."
