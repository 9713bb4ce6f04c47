"""Streams through the official SDK's helpers: the event handler's callbacks, text deltas, the
final run and messages, tool calls across a requires_action stream and the submit stream, and
runs that end incomplete, failed or cancelled."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai import AssistantEventHandler
from openai.types.beta.threads import Message, Text, TextDelta
from openai.types.beta.threads.runs import RunStep, ToolCall, ToolCallDelta

from tests.runs.conftest import Scripted, script_two_weather_calls, weather_outputs

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


class Recorder(AssistantEventHandler):
    """Writes down every callback the SDK makes, with what it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self.deltas: list[str] = []
        self.texts_done: list[str] = []
        self.messages_done: list[Message] = []
        self.steps_created: list[RunStep] = []
        self.steps_done: list[RunStep] = []
        self.tool_calls_created: list[ToolCall] = []
        self.argument_deltas: list[str] = []
        self.tool_calls_done: list[ToolCall] = []

    def on_text_created(self, text: Text) -> None:
        self.calls.append("text_created")

    def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        self.calls.append("text_delta")
        self.deltas.append(delta.value or "")
        assert snapshot.value == "".join(self.deltas)

    def on_text_done(self, text: Text) -> None:
        self.calls.append("text_done")
        self.texts_done.append(text.value)

    def on_message_done(self, message: Message) -> None:
        self.calls.append("message_done")
        self.messages_done.append(message)

    def on_run_step_created(self, run_step: RunStep) -> None:
        self.calls.append("step_created")
        self.steps_created.append(run_step)

    def on_run_step_done(self, run_step: RunStep) -> None:
        self.calls.append("step_done")
        self.steps_done.append(run_step)

    def on_tool_call_created(self, tool_call: ToolCall) -> None:
        self.calls.append("tool_call_created")
        self.tool_calls_created.append(tool_call)

    def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None:
        self.calls.append("tool_call_delta")
        assert delta.type == "function" and delta.function is not None
        self.argument_deltas.append(delta.function.arguments or "")

    def on_tool_call_done(self, tool_call: ToolCall) -> None:
        self.calls.append("tool_call_done")
        self.tool_calls_done.append(tool_call)


@pytest.fixture
def tool_assistant(client: openai.OpenAI, model: str) -> Any:
    return client.beta.assistants.create(model=model, tools=[WEATHER])


def _stored_text(client: openai.OpenAI, thread_id: str, run_id: str) -> str:
    [message] = client.beta.threads.messages.list(thread_id=thread_id, run_id=run_id).data
    return message.content[0].text.value


def test_event_handler_sees_the_text_as_it_streams(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, {"chunks": ["The ", "answer ", "is ", "42."]})
    handler = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=handler
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
        [final] = stream.get_final_messages()
    assert run.status == "completed" and run.usage is not None
    assert handler.deltas == ["The ", "answer ", "is ", "42."]
    assert handler.texts_done == ["The answer is 42."]
    assert handler.calls == [
        "step_created", "text_created", *["text_delta"] * 4, "text_done", "message_done",
        "step_done",
    ]  # fmt: skip
    [step] = handler.steps_created
    assert step.type == "message_creation" and step.status == "in_progress"
    assert handler.steps_done[0].status == "completed"
    assert handler.steps_done[0].usage is not None
    [done] = handler.messages_done
    assert done.status == "completed" and done.id == final.id
    assert final.content[0].text.value == "The answer is 42."
    assert _stored_text(client, thread.id, run.id) == "The answer is 42."


def test_text_deltas_concatenate_to_the_stored_message(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    reply = "Streams are just events, one after another, ending with done. Ünïcödé ✓\nNew line."
    scripted.script(model, {"text": reply})
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
        pieces = list(stream.text_deltas)
        run = stream.get_final_run()
    assert len(pieces) > 5
    assert "".join(pieces) == reply == _stored_text(client, thread.id, run.id)


def test_a_message_and_its_step_can_be_fetched_as_soon_as_they_are_announced(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    """A handler that looks the new message up when the stream announces it finds it."""
    scripted.script(model, {"chunks": ["Fetched ", "at once."], "chunk_delay_ms": 300})
    seen: list[tuple[str, str]] = []

    class LooksUp(AssistantEventHandler):
        def on_message_created(self, message: Message) -> None:
            found = client.beta.threads.messages.retrieve(message.id, thread_id=thread.id)
            seen.append(("message", found.status))

        def on_run_step_created(self, run_step: RunStep) -> None:
            found = client.beta.threads.runs.steps.retrieve(
                run_step.id, thread_id=thread.id, run_id=run_step.run_id
            )
            seen.append(("step", found.status))

    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=LooksUp()
    ) as stream:
        stream.until_done()
    assert seen == [("step", "in_progress"), ("message", "in_progress")]


def test_create_and_run_stream_opens_with_the_thread(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any
) -> None:
    scripted.script(model, {"text": "Paris."})
    with client.beta.threads.create_and_run_stream(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": "Capital of France?"}]},
    ) as stream:
        events = list(stream)
        run = stream.get_final_run()
    assert events[0].event == "thread.created"
    assert events[1].event == "thread.run.created"
    assert events[0].data.id == run.thread_id
    assert run.status == "completed"
    assert _stored_text(client, run.thread_id, run.id) == "Paris."


def test_parallel_tool_calls_stream_then_submit_stream_finishes(
    client: openai.OpenAI, scripted: Scripted, model: str, tool_assistant: Any, thread: Any
) -> None:
    script_two_weather_calls(scripted, model)
    handler = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=tool_assistant.id, event_handler=handler
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
    assert run.status == "requires_action"
    assert [c.id for c in handler.tool_calls_created] == ["call_paris", "call_rome"]
    assert [c.function.name for c in handler.tool_calls_created] == ["get_weather"] * 2
    done = {c.id: json.loads(c.function.arguments) for c in handler.tool_calls_done}
    assert done == {"call_paris": {"city": "Paris"}, "call_rome": {"city": "Rome"}}
    assert "".join(handler.argument_deltas) == (
        json.dumps({"city": "Paris"}) + json.dumps({"city": "Rome"})
    )
    [step] = handler.steps_created
    assert step.type == "tool_calls" and handler.steps_done == []  # waits for the outputs
    required = run.required_action.submit_tool_outputs.tool_calls
    assert [c.id for c in required] == ["call_paris", "call_rome"]

    after = Recorder()
    with client.beta.threads.runs.submit_tool_outputs_stream(
        run_id=run.id,
        thread_id=thread.id,
        tool_outputs=weather_outputs(),
        event_handler=after,
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
        [message] = stream.get_final_messages()
    assert run.status == "completed"
    tool_step = after.steps_done[0]
    assert tool_step.id == step.id and tool_step.status == "completed"
    outputs = [c.function.output for c in tool_step.step_details.tool_calls]
    assert outputs == ["sunny", "rainy"]
    assert "".join(after.deltas) == "Paris is sunny, Rome is rainy."
    assert message.content[0].text.value == _stored_text(client, thread.id, run.id)


def test_a_stream_cut_short_by_max_completion_tokens_ends_incomplete(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, {"text": "Partial answer", "finish_reason": "length"})
    handler = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id,
        assistant_id=assistant.id,
        max_completion_tokens=256,
        event_handler=handler,
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
    assert run.status == "incomplete"
    assert run.incomplete_details.reason == "max_completion_tokens"
    [message] = handler.messages_done
    assert message.status == "incomplete"
    assert "".join(handler.deltas) == "Partial answer" == message.content[0].text.value


def test_an_upstream_failure_ends_the_stream_failed(
    fragile_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"status": 500, "error": "boom"})
    assistant = fragile_client.beta.assistants.create(model=model)
    with fragile_client.beta.threads.create_and_run_stream(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "Hi"}]}
    ) as stream:
        names = [event.event for event in stream]
        run = stream.get_final_run()
    assert run.status == "failed" and run.last_error.code == "server_error"
    assert names[-1] == "thread.run.failed"


def test_a_failure_mid_message_streams_the_message_incomplete(
    fragile_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"chunks": ["one ", "two ", "three ", "four"], "drop_after_chunks": 2})
    assistant = fragile_client.beta.assistants.create(model=model)
    handler = Recorder()
    with fragile_client.beta.threads.create_and_run_stream(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": "Hi"}]},
        event_handler=handler,
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
    assert run.status == "failed"
    [message] = handler.messages_done
    assert message.status == "incomplete" and message.incomplete_details.reason == "run_failed"
    streamed = "".join(handler.deltas)
    assert streamed and "one two three four".startswith(streamed)
    assert streamed == message.content[0].text.value  # what the client saw is what was kept
    assert handler.steps_done[0].status == "failed"


def test_a_cancel_from_another_request_ends_the_stream(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, {"chunks": ["slow "] * 200, "chunk_delay_ms": 50})
    names: list[str] = []
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id) as stream:
        for event in stream:
            names.append(event.event)
            if event.event == "thread.message.delta" and names.count(event.event) == 2:
                client.beta.threads.runs.cancel(stream.current_run.id, thread_id=thread.id)
        run = stream.get_final_run()
    assert run.status == "cancelled"
    closing = [n for n in names if n.startswith("thread.run.") and "step" not in n]
    assert closing[-2:] == ["thread.run.cancelling", "thread.run.cancelled"]
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert message.status == "incomplete"
    assert message.incomplete_details.reason == "run_cancelled"
