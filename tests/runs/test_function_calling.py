"""Function calling: requires_action with every pending call, submitting outputs, the steps, and
what the model sees on the next turn and on a follow-up run."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.runs.conftest import Scripted, script_two_weather_calls, weather_outputs

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def tool_assistant(client: openai.OpenAI, model: str) -> Any:
    return client.beta.assistants.create(model=model, tools=[WEATHER])


def test_parallel_calls_then_outputs_then_answer(
    client: openai.OpenAI, scripted: Scripted, model: str, tool_assistant: Any, thread: Any
) -> None:
    script_two_weather_calls(scripted, model)
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=tool_assistant.id
    )
    assert run.status == "requires_action"
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [(c.id, c.function.name) for c in calls] == [
        ("call_paris", "get_weather"),
        ("call_rome", "get_weather"),
    ]
    assert json.loads(calls[0].function.arguments) == {"city": "Paris"}
    [step] = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    assert step.type == "tool_calls" and step.status == "in_progress"

    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=weather_outputs(),
    )
    assert run.status == "completed"
    assert run.required_action is None
    steps = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id, order="asc")
    tool_step, message_step = steps.data
    assert tool_step.status == "completed"
    outputs = [c.function.output for c in tool_step.step_details.tool_calls]
    assert outputs == ["sunny", "rainy"]
    assert message_step.type == "message_creation"
    assert run.usage.total_tokens == sum(s.usage.total_tokens for s in steps.data)

    second_request = scripted.requests(model)[-1]
    roles = [m["role"] for m in second_request["messages"]]
    assert roles == ["user", "assistant", "tool", "tool"]
    assert second_request["messages"][1]["tool_calls"][1]["id"] == "call_rome"
    assert second_request["messages"][3] == {
        "role": "tool",
        "tool_call_id": "call_rome",
        "content": "rainy",
    }
    assert second_request["tools"] == [WEATHER]


def test_a_follow_up_run_sees_the_earlier_tool_calls(
    client: openai.OpenAI, scripted: Scripted, model: str, tool_assistant: Any, thread: Any
) -> None:
    script_two_weather_calls(scripted, model)
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=tool_assistant.id
    )
    client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=weather_outputs(),
    )
    client.beta.threads.messages.create(thread_id=thread.id, role="user", content="And Oslo?")
    scripted.script(model, {"text": "Snowy."})
    client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=tool_assistant.id)
    contents = [(m["role"], m.get("content")) for m in scripted.requests(model)[-1]["messages"]]
    assert contents == [
        ("user", "Hello?"),
        ("assistant", None),
        ("tool", "sunny"),
        ("tool", "rainy"),
        ("assistant", "Paris is sunny, Rome is rainy."),
        ("user", "And Oslo?"),
    ]


def test_outputs_must_answer_every_pending_call_at_once(
    client: openai.OpenAI, scripted: Scripted, model: str, tool_assistant: Any, thread: Any
) -> None:
    script_two_weather_calls(scripted, model)
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=tool_assistant.id
    )
    with pytest.raises(openai.BadRequestError) as missing:
        client.beta.threads.runs.submit_tool_outputs(
            run_id=run.id,
            thread_id=thread.id,
            tool_outputs=[{"tool_call_id": "call_paris", "output": "sunny"}],
        )
    assert "call_rome" in missing.value.message
    with pytest.raises(openai.BadRequestError) as unknown:
        client.beta.threads.runs.submit_tool_outputs(
            run_id=run.id,
            thread_id=thread.id,
            tool_outputs=[
                {"tool_call_id": "call_paris", "output": "sunny"},
                {"tool_call_id": "call_nope", "output": "?"},
            ],
        )
    assert "call_nope" in unknown.value.message
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread.id).status == (
        "requires_action"
    )
    client.beta.threads.runs.cancel(run.id, thread_id=thread.id)


def test_outputs_are_refused_unless_the_run_requires_action(
    client: openai.OpenAI, assistant: Any, thread: Any
) -> None:
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.threads.runs.submit_tool_outputs(
            run_id=run.id, thread_id=thread.id, tool_outputs=[]
        )
    assert 'status "completed"' in refused.value.message


@pytest.mark.parametrize("missing", ["no_such_tool", "code_interpreter", "file_search"])
def test_a_call_to_a_tool_the_run_lacks_is_answered_with_an_error_and_the_run_goes_on(
    client: openai.OpenAI,
    scripted: Scripted,
    model: str,
    tool_assistant: Any,
    thread: Any,
    missing: str,
) -> None:
    """The client is never asked to run a function it did not declare: the model is told."""
    scripted.script(
        model, {"tool_calls": [{"id": "call_x", "name": missing}]}, {"text": "I cannot."}
    )
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=tool_assistant.id
    )
    assert run.status == "completed", run.last_error
    tool_step, message_step = client.beta.threads.runs.steps.list(
        thread_id=thread.id, run_id=run.id, order="asc"
    ).data
    assert tool_step.status == "completed" and message_step.type == "message_creation"
    [call] = tool_step.step_details.tool_calls
    assert call.type == "function" and call.function.name == missing
    assert missing in call.function.output and "get_weather" in call.function.output
    told = scripted.requests(model)[-1]["messages"][-1]
    assert told == {"role": "tool", "tool_call_id": "call_x", "content": call.function.output}
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert message.content[0].text.value == "I cannot."


def test_a_missing_tool_next_to_a_declared_one_leaves_only_the_declared_one_to_the_client(
    client: openai.OpenAI, scripted: Scripted, model: str, tool_assistant: Any, thread: Any
) -> None:
    scripted.script(
        model,
        {
            "tool_calls": [
                {"id": "call_w", "name": "get_weather", "arguments": {"city": "Oslo"}},
                {"id": "call_x", "name": "no_such_tool"},
            ]
        },
        {"text": "Cold."},
    )
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=tool_assistant.id
    )
    assert run.status == "requires_action"
    assert [c.id for c in run.required_action.submit_tool_outputs.tool_calls] == ["call_w"]
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=[{"tool_call_id": "call_w", "output": "-5"}],
    )
    assert run.status == "completed"
    told = scripted.requests(model)[-1]["messages"][-2:]
    assert [(m["tool_call_id"], "no_such_tool" in m["content"]) for m in told] == [
        ("call_w", False),
        ("call_x", True),
    ]


def test_a_model_that_keeps_calling_missing_tools_fails_the_run(
    client: openai.OpenAI, scripted: Scripted, model: str, tool_assistant: Any, thread: Any
) -> None:
    scripted.script(model, {"tool_calls": [{"name": "no_such_tool"}], "repeat": 10})
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=tool_assistant.id
    )
    assert run.status == "failed"
    assert run.last_error.code == "server_error"
    assert "no_such_tool" in run.last_error.message
    assert len(scripted.requests(model)) == 4  # told three times, then given up on
    steps = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    assert [s.status for s in steps] == ["failed", "completed", "completed", "completed"]


def test_a_streamed_run_with_a_missing_tool_streams_on_to_its_answer(
    client: openai.OpenAI, scripted: Scripted, model: str, tool_assistant: Any, thread: Any
) -> None:
    scripted.script(model, {"tool_calls": [{"name": "no_such_tool"}]}, {"text": "Done."})
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=tool_assistant.id
    ) as stream:
        names = [event.event for event in stream]
        steps = stream.get_final_run_steps()
        [message] = stream.get_final_messages()
    assert "thread.run.requires_action" not in names
    assert names[-1] == "thread.run.completed"
    assert [s.type for s in steps] == ["tool_calls", "message_creation"]
    [call] = steps[0].step_details.tool_calls
    assert call.function.name == "no_such_tool" and "no_such_tool" in call.function.output
    assert message.content[0].text.value == "Done."
