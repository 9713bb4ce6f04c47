"""Threads through the official SDK."""

from __future__ import annotations

import openai
import pytest


def test_create_empty_thread(client: openai.OpenAI) -> None:
    thread = client.beta.threads.create()
    assert thread.id.startswith("thread_")
    assert thread.object == "thread"
    assert thread.metadata == {}
    assert client.beta.threads.retrieve(thread.id) == thread
    assert client.beta.threads.messages.list(thread.id).data == []


def test_create_with_messages_metadata_and_resources(client: openai.OpenAI) -> None:
    file_id = client.files.create(file=("x.txt", b"x"), purpose="assistants").id
    thread = client.beta.threads.create(
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "second"},
            {"role": "user", "content": [{"type": "text", "text": "third"}]},
        ],
        metadata={"user": "42"},
        tool_resources={"code_interpreter": {"file_ids": [file_id]}},
    )
    assert thread.metadata == {"user": "42"}
    assert thread.tool_resources.code_interpreter.file_ids == [file_id]
    listed = client.beta.threads.messages.list(thread.id, order="asc").data
    assert [m.content[0].text.value for m in listed] == ["first", "second", "third"]
    assert [m.role for m in listed] == ["user", "assistant", "user"]
    assert all(m.thread_id == thread.id and m.run_id is None for m in listed)


def test_invalid_initial_message_creates_nothing(client: openai.OpenAI, http) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.beta.threads.create(
            messages=[{"role": "user", "content": "ok"}, {"role": "system", "content": "no"}]
        )
    assert raised.value.body["param"] == "messages[1].role"


def test_modify(client: openai.OpenAI) -> None:
    thread = client.beta.threads.create(metadata={"a": "1"})
    store_id = client.vector_stores.create(name="thread's").id
    modified = client.beta.threads.update(
        thread.id,
        metadata={"b": "2"},
        tool_resources={"file_search": {"vector_store_ids": [store_id]}},
    )
    assert modified.metadata == {"b": "2"}
    assert modified.tool_resources.file_search.vector_store_ids == [store_id]
    assert client.beta.threads.retrieve(thread.id) == modified


def test_delete_removes_messages(client: openai.OpenAI) -> None:
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "bye"}])
    message = client.beta.threads.messages.list(thread.id).data[0]
    deleted = client.beta.threads.delete(thread.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (thread.id, "thread.deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.retrieve(thread.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.retrieve(message.id, thread_id=thread.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.list(thread.id)


def test_unknown_thread_is_404(client: openai.OpenAI) -> None:
    for call in (
        lambda: client.beta.threads.retrieve("thread_missing"),
        lambda: client.beta.threads.update("thread_missing", metadata={}),
        lambda: client.beta.threads.delete("thread_missing"),
        lambda: client.beta.threads.messages.create("thread_missing", role="user", content="x"),
    ):
        with pytest.raises(openai.NotFoundError) as raised:
            call()
        assert raised.value.body["type"] == "invalid_request_error"
