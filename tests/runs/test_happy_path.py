"""The everyday path through the SDK: create and poll, thread and run, steps, list, messages."""

from __future__ import annotations

from typing import Any

import openai

from tests.runs.conftest import Scripted


def test_create_and_poll_completes_with_the_models_answer(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, {"text": "Hi there, friend."})
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed"
    assert run.started_at is not None and run.completed_at is not None
    assert run.expires_at is None
    assert run.usage is not None and run.usage.total_tokens > 0
    messages = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id)
    [message] = messages.data
    assert message.role == "assistant"
    assert message.status == "completed"
    assert message.assistant_id == assistant.id
    assert message.content[0].text.value == "Hi there, friend."
    [step] = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    assert step.type == "message_creation"
    assert step.status == "completed"
    assert step.step_details.message_creation.message_id == message.id
    assert step.usage is not None and step.usage.total_tokens == run.usage.total_tokens
    again = client.beta.threads.runs.steps.retrieve(step.id, thread_id=thread.id, run_id=run.id)
    assert again == step


def test_create_returns_a_queued_run_with_the_assistants_settings(
    client: openai.OpenAI, model: str, assistant: Any, thread: Any
) -> None:
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "queued"
    assert run.model == model
    assert run.instructions == "You are terse."
    assert run.expires_at == run.created_at + 600
    assert run.truncation_strategy.type == "auto"
    assert run.tool_choice == "auto" and run.parallel_tool_calls is True
    assert run.usage is None
    client.beta.threads.runs.poll(run.id, thread_id=thread.id)


def test_create_thread_and_run_poll(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any
) -> None:
    scripted.script(model, {"text": "Paris."})
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": "Capital of France?"}]},
    )
    assert run.status == "completed"
    texts = [
        m.content[0].text.value
        for m in client.beta.threads.messages.list(thread_id=run.thread_id, order="asc").data
    ]
    assert texts == ["Capital of France?", "Paris."]


def test_runs_list_and_retrieve_and_modify(
    client: openai.OpenAI, assistant: Any, thread: Any
) -> None:
    first = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    second = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id
    )
    listed = client.beta.threads.runs.list(thread_id=thread.id)
    assert [r.id for r in listed.data] == [second.id, first.id]
    modified = client.beta.threads.runs.update(
        first.id, thread_id=thread.id, metadata={"reviewed": "yes"}
    )
    assert modified.metadata == {"reviewed": "yes"}
    assert client.beta.threads.runs.retrieve(first.id, thread_id=thread.id).metadata == {
        "reviewed": "yes"
    }


def test_run_endpoints_tell_the_sdk_how_fast_to_poll(
    client: openai.OpenAI, assistant: Any, thread: Any
) -> None:
    response = client.beta.threads.runs.with_raw_response.create(
        thread_id=thread.id, assistant_id=assistant.id
    )
    assert response.headers["openai-poll-after-ms"] == "50"
    client.beta.threads.runs.poll(response.parse().id, thread_id=thread.id)
