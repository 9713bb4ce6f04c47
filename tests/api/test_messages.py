"""Messages through the official SDK: content forms, attachments, metadata, delete, pagination."""

from __future__ import annotations

import openai
import pytest

from tests.harness.images import png


@pytest.fixture
def thread_id(client: openai.OpenAI) -> str:
    return client.beta.threads.create().id


def test_string_content_becomes_a_text_part(client: openai.OpenAI, thread_id: str) -> None:
    message = client.beta.threads.messages.create(thread_id, role="user", content="Hello")
    assert message.id.startswith("msg_")
    assert message.object == "thread.message"
    assert message.status == "completed"
    assert message.content[0].type == "text"
    assert message.content[0].text.value == "Hello"
    assert message.content[0].text.annotations == []
    assert message.assistant_id is None and message.run_id is None
    assert client.beta.threads.messages.retrieve(message.id, thread_id=thread_id) == message


def test_parts_and_attachments(client: openai.OpenAI, thread_id: str) -> None:
    # A file_search attachment goes into the thread's vector store, so it must exist.
    doc = client.files.create(file=("doc.txt", b"some words"), purpose="assistants").id
    # An image_file part must name an image that exists.
    image = client.files.create(file=("a.png", png()), purpose="vision").id
    message = client.beta.threads.messages.create(
        thread_id,
        role="user",
        content=[
            {"type": "text", "text": "Look:"},
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/a.png", "detail": "low"},
            },
            {"type": "image_file", "image_file": {"file_id": image}},
        ],
        attachments=[{"file_id": doc, "tools": [{"type": "file_search"}]}],
        metadata={"k": "v"},
    )
    assert [part.type for part in message.content] == ["text", "image_url", "image_file"]
    assert message.content[1].image_url.detail == "low"
    assert message.content[2].image_file.detail == "auto"
    assert message.attachments[0].file_id == doc
    assert message.attachments[0].tools[0].type == "file_search"
    assert message.metadata == {"k": "v"}


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"role": "system", "content": "x"}, "role"),
        ({"role": "user", "content": []}, "content"),
        ({"role": "user", "content": [{"type": "audio", "audio": {}}]}, "content[0].type"),
        ({"role": "user"}, "content"),
        ({"role": "user", "content": "x", "metadata": {"k": "v" * 513}}, "metadata"),
        ({"role": "user", "content": "x", "file_ids": ["f"]}, "file_ids"),
    ],
)
def test_invalid_message_is_400(
    client: openai.OpenAI, thread_id: str, fields: dict, param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.post(f"/threads/{thread_id}/messages", body=fields, cast_to=object)
    assert raised.value.body["param"] == param
    assert client.beta.threads.messages.list(thread_id).data == []


def test_modify_metadata_and_delete(client: openai.OpenAI, thread_id: str) -> None:
    message = client.beta.threads.messages.create(thread_id, role="user", content="x")
    modified = client.beta.threads.messages.update(
        message.id, thread_id=thread_id, metadata={"seen": "yes"}
    )
    assert modified.metadata == {"seen": "yes"}
    assert modified.content == message.content
    deleted = client.beta.threads.messages.delete(message.id, thread_id=thread_id)
    assert (deleted.object, deleted.deleted) == ("thread.message.deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.retrieve(message.id, thread_id=thread_id)


def test_message_of_another_thread_is_404(client: openai.OpenAI, thread_id: str) -> None:
    other = client.beta.threads.create(messages=[{"role": "user", "content": "x"}])
    message = client.beta.threads.messages.list(other.id).data[0]
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.messages.retrieve(message.id, thread_id=thread_id)


def test_pagination_in_both_orders_with_both_cursors(client: openai.OpenAI, thread_id: str) -> None:
    ids = [
        client.beta.threads.messages.create(thread_id, role="user", content=str(i)).id
        for i in range(25)
    ]
    messages = client.beta.threads.messages

    newest_first = messages.list(thread_id)
    assert [m.id for m in newest_first.data] == ids[::-1][:20]  # default desc, limit 20
    assert newest_first.has_more is True
    assert newest_first.first_id == ids[-1] and newest_first.last_id == ids[5]

    assert [m.id for m in messages.list(thread_id, limit=7, order="asc")] == ids  # auto-paging
    assert [m.id for m in messages.list(thread_id, limit=7, order="desc")] == ids[::-1]

    after = messages.list(thread_id, order="asc", after=ids[9], limit=5)
    assert [m.id for m in after.data] == ids[10:15] and after.has_more
    after_desc = messages.list(thread_id, order="desc", after=ids[9], limit=5)
    assert [m.id for m in after_desc.data] == ids[8:3:-1] and after_desc.has_more

    before = messages.list(thread_id, order="asc", before=ids[9], limit=5)
    assert [m.id for m in before.data] == ids[4:9] and before.has_more
    before_desc = messages.list(thread_id, order="desc", before=ids[9], limit=5)
    assert [m.id for m in before_desc.data] == ids[14:9:-1] and before_desc.has_more
    last = messages.list(thread_id, order="asc", before=ids[2], limit=5)
    assert [m.id for m in last.data] == ids[:2] and not last.has_more

    between = messages.list(thread_id, order="asc", after=ids[3], before=ids[7])
    assert [m.id for m in between.data] == ids[4:7]
