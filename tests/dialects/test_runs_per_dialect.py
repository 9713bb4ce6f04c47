"""The run engine's flows through the official SDK against a model speaking each backend's
dialect (``assistantd/scripted_model/dialects.py``): streamed text with its usage and without
the model's reasoning, function calls (parallel too) answered with submit_tool_outputs, a
file_search answer with its citation, code_interpreter, and failures said in the run's
``last_error``. What this file proves is the README's compatibility table."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from assistantd import tokens
from tests.runs.conftest import Scripted, script_two_weather_calls, weather_outputs
from tests.streaming.test_sdk_streams import WEATHER, Recorder
from tests.tools.code_interpreter.conftest import needs_sandbox
from tests.tools.test_file_search_runs import CONTENT, REFUNDS, indexed_store

# Dialects whose tool calls carry no usable id: assistantd makes one up.
WITHOUT_IDS = {"tgi"}
# Dialects that never send usage: assistantd counts it.
WITHOUT_USAGE = {"tgi"}

ANSWER = "Hello from the model."
USAGE = {"prompt_tokens": 31, "completion_tokens": 7}


def _tool_assistant(client: openai.OpenAI, model: str) -> Any:
    return client.beta.assistants.create(model=model, instructions="Be terse.", tools=[WEATHER])


def _thread(client: openai.OpenAI, text: str = "Hello?") -> Any:
    return client.beta.threads.create(messages=[{"role": "user", "content": text}])


def test_streamed_text_with_usage_and_without_reasoning(
    client: openai.OpenAI, scripted: Scripted, model: str, dialect: str
) -> None:
    scripted.script(
        model, {"reasoning": "Let me think about a greeting.", "text": ANSWER, "usage": USAGE}
    )
    assistant = client.beta.assistants.create(model=model, instructions="Be terse.")
    thread = _thread(client)
    handler = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=handler
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
        [message] = stream.get_final_messages()
    assert run.status == "completed", run.last_error
    assert "".join(handler.deltas) == ANSWER == message.content[0].text.value
    stored = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert [m.content[0].text.value for m in stored] == [ANSWER]
    if dialect in WITHOUT_USAGE:
        assert run.usage.completion_tokens == tokens.count(ANSWER)
        assert run.usage.prompt_tokens > 0
    else:
        assert (run.usage.prompt_tokens, run.usage.completion_tokens) == (31, 7)
    assert run.usage.total_tokens == run.usage.prompt_tokens + run.usage.completion_tokens


def test_parallel_function_calls_then_outputs_then_answer(
    client: openai.OpenAI, scripted: Scripted, model: str, dialect: str
) -> None:
    script_two_weather_calls(scripted, model)
    assistant, thread = _tool_assistant(client, model), _thread(client, "Weather?")
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action", run.last_error
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [c.function.name for c in calls] == ["get_weather", "get_weather"]
    assert [json.loads(c.function.arguments) for c in calls] == [
        {"city": "Paris"},
        {"city": "Rome"},
    ]
    ids = [c.id for c in calls]
    assert len(set(ids)) == 2 and all(i.startswith("call_") for i in ids)
    if dialect not in WITHOUT_IDS:
        assert ids == ["call_paris", "call_rome"]

    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=weather_outputs((ids[0], ids[1])),
    )
    assert run.status == "completed", run.last_error
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert message.content[0].text.value == "Paris is sunny, Rome is rainy."
    second = scripted.requests(model)[-1]["messages"]
    [assistant_turn] = [m for m in second if m["role"] == "assistant"]
    assert [c["id"] for c in assistant_turn["tool_calls"]] == ids
    answers = [(m["tool_call_id"], m["content"]) for m in second if m["role"] == "tool"]
    assert answers == [(ids[0], "sunny"), (ids[1], "rainy")]


def test_one_function_call_streamed_then_submitted_by_stream(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(
        model,
        {"tool_calls": [{"id": "call_oslo", "name": "get_weather", "arguments": {"city": "Oslo"}}]},
        {"text": "Oslo is snowy."},
    )
    assistant, thread = _tool_assistant(client, model), _thread(client, "Weather in Oslo?")
    handler = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=handler
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
    assert run.status == "requires_action", run.last_error
    [done] = handler.tool_calls_done
    assert json.loads(done.function.arguments) == {"city": "Oslo"}
    [required] = run.required_action.submit_tool_outputs.tool_calls
    assert required.id == done.id

    after = Recorder()
    with client.beta.threads.runs.submit_tool_outputs_stream(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=[{"tool_call_id": done.id, "output": "snowy"}],
        event_handler=after,
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
    assert run.status == "completed", run.last_error
    assert "".join(after.deltas) == "Oslo is snowy."


def test_file_search_answer_cites_the_file(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    refunds = client.files.create(file=("refunds.txt", REFUNDS.encode()), purpose="assistants").id
    store_id = indexed_store(client, refunds)
    assistant = client.beta.assistants.create(
        model=model,
        tools=[{"type": "file_search"}],
        tool_resources={"file_search": {"vector_store_ids": [store_id]}},
    )
    thread = _thread(client, "How long do refunds take?")
    scripted.script(
        model,
        {"tool_calls": [{"name": "file_search", "arguments": {"queries": ["refund days"]}}]},
        {"text": "Within 14 days 【0:0†refunds.txt】."},
    )
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, include=[CONTENT]
    )
    assert run.status == "completed", run.last_error
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    [citation] = message.content[0].text.annotations
    assert citation.type == "file_citation" and citation.file_citation.file_id == refunds
    [tool_message] = [m for m in scripted.requests(model)[-1]["messages"] if m["role"] == "tool"]
    assert "within 14 days" in tool_message["content"]


@needs_sandbox
def test_code_interpreter_runs_the_models_code(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    assistant = client.beta.assistants.create(model=model, tools=[{"type": "code_interpreter"}])
    thread = _thread(client, "Six times seven?")
    scripted.script(
        model,
        {"tool_calls": [{"name": "code_interpreter", "arguments": {"code": "print(6 * 7)"}}]},
        {"text": "It is 42."},
    )
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed", run.last_error
    steps = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    [call] = [c for s in steps if s.type == "tool_calls" for c in s.step_details.tool_calls]
    assert call.code_interpreter.input == "print(6 * 7)"
    logs = "".join(o.logs for o in call.code_interpreter.outputs if o.type == "logs")
    assert logs == "42\n"


def test_an_error_answer_is_the_runs_last_error(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"status": 400, "error": "The model is not loaded."})
    assistant, thread = client.beta.assistants.create(model=model), _thread(client)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "failed"
    assert run.last_error.code == "server_error"
    assert run.last_error.message == "upstream rejected the request (400): The model is not loaded."


def test_a_mid_stream_error_fails_the_run(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"text": "Partial", "stream_error": "the upstream model overloaded"})
    assistant, thread = client.beta.assistants.create(model=model), _thread(client)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "failed"
    assert run.last_error.message == "upstream error mid-stream: the upstream model overloaded"


@pytest.mark.parametrize("dialect", ["openai-reasoning"])
def test_refused_fields_are_left_out_and_remembered(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    """A reasoning model refuses max_tokens, a temperature, the system role and
    parallel_tool_calls one by one; the run still completes, and the next one goes out in the
    shape the model took at once."""
    assistant = _tool_assistant(client, model)
    scripted.script(model, {"text": "First."}, {"text": "Second."})
    for text in ("First.", "Second."):
        run = client.beta.threads.runs.create_and_poll(
            thread_id=_thread(client).id,
            assistant_id=assistant.id,
            temperature=0.5,
            max_completion_tokens=500,
        )
        assert run.status == "completed", run.last_error
        [message] = client.beta.threads.messages.list(thread_id=run.thread_id, run_id=run.id).data
        assert message.content[0].text.value == text
    bodies = scripted.requests(model)
    assert len(bodies) == 5 + 1  # four refusals and an answer, then one answer at once
    last = bodies[-1]
    assert last["max_completion_tokens"] == 500 and "max_tokens" not in last
    assert "temperature" not in last and "parallel_tool_calls" not in last
    assert last["messages"][0] == {"role": "developer", "content": "Be terse."}
    assert last["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("dialect", ["tgi"])
def test_refused_stream_options_are_left_out_and_remembered(
    client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    assistant = client.beta.assistants.create(model=model)
    scripted.script(model, {"text": "First."}, {"text": "Second."})
    for _ in range(2):
        run = client.beta.threads.runs.create_and_poll(
            thread_id=_thread(client).id, assistant_id=assistant.id
        )
        assert run.status == "completed", run.last_error
    bodies = scripted.requests(model)
    assert ["stream_options" in body for body in bodies] == [True, False, False]
