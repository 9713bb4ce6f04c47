"""Every run-level override reaches the model as the chat request says it should."""

from __future__ import annotations

from typing import Any

import openai

from tests.runs.conftest import Scripted

LOOKUP = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
}
OTHER = {
    "type": "function",
    "function": {"name": "other", "parameters": {"type": "object", "properties": {}}},
}


def _last_request(scripted: Scripted, model: str) -> dict[str, Any]:
    return scripted.requests(model)[-1]


def test_instructions_and_additional_instructions_and_messages(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id,
        assistant_id=assistant.id,
        instructions="Answer in French.",
        additional_instructions="Be brief.",
        additional_messages=[{"role": "user", "content": "One more thing."}],
    )
    assert run.status == "completed"
    assert run.instructions == "Answer in French.\n\nBe brief."
    messages = _last_request(scripted, model)["messages"]
    assert messages == [
        {"role": "system", "content": "Answer in French.\n\nBe brief."},
        {"role": "user", "content": "Hello?"},
        {"role": "user", "content": "One more thing."},
    ]
    stored = client.beta.threads.messages.list(thread_id=thread.id, order="asc").data
    assert [m.content[0].text.value for m in stored][:2] == ["Hello?", "One more thing."]


def test_additional_instructions_extend_the_assistants(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, additional_instructions="Use emoji."
    )
    system = _last_request(scripted, model)["messages"][0]
    assert system == {"role": "system", "content": "You are terse.\n\nUse emoji."}


def test_model_override(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    other = model + "-override"
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, model=other
    )
    assert run.model == other
    assert _last_request(scripted, other)["model"] == other
    assert scripted.requests(model) == []


def test_sampling_and_format_overrides(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id,
        assistant_id=assistant.id,
        temperature=0.2,
        top_p=0.5,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema, "strict": True},
        },
    )
    assert (run.temperature, run.top_p) == (0.2, 0.5)
    request = _last_request(scripted, model)
    assert (request["temperature"], request["top_p"]) == (0.2, 0.5)
    assert request["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    }
    client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, response_format={"type": "json_object"}
    )
    assert _last_request(scripted, model)["response_format"] == {"type": "json_object"}
    client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert "response_format" not in _last_request(scripted, model)


def test_tools_override_and_tool_choice_forms(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, tools=[LOOKUP, OTHER]
    )
    request = _last_request(scripted, model)
    assert [t["function"]["name"] for t in request["tools"]] == ["lookup", "other"]
    assert request["tool_choice"] == "auto" and request["parallel_tool_calls"] is True
    for choice in ("none", "required"):
        scripted.script(model, {"text": "ok"})
        client.beta.threads.runs.create_and_poll(
            thread_id=thread.id,
            assistant_id=assistant.id,
            tools=[LOOKUP],
            tool_choice=choice,
            parallel_tool_calls=False,
        )
        request = _last_request(scripted, model)
        assert request["tool_choice"] == choice
        assert request["parallel_tool_calls"] is False
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id,
        assistant_id=assistant.id,
        tools=[LOOKUP, OTHER],
        tool_choice={"type": "function", "function": {"name": "other"}},
    )
    assert run.tool_choice.function.name == "other"
    assert _last_request(scripted, model)["tool_choice"] == {
        "type": "function",
        "function": {"name": "other"},
    }


def test_without_tools_no_tool_fields_are_sent(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    request = _last_request(scripted, model)
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & set(request)


def test_server_tools_are_offered_to_the_model_as_functions(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id,
        assistant_id=assistant.id,
        tools=[{"type": "code_interpreter"}, {"type": "file_search"}, LOOKUP],
    )
    assert run.status == "completed"
    assert [t.type for t in run.tools] == ["code_interpreter", "file_search", "function"]
    offered = _last_request(scripted, model)["tools"]
    assert [t["function"]["name"] for t in offered] == ["code_interpreter", "file_search", "lookup"]
    assert all(t["type"] == "function" for t in offered)
