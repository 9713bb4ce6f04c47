"""``image_file`` parts must name a usable image when a message is created: a file that does not
exist, is no PNG / JPEG / GIF / WebP image, or is over 20 MB is a 400, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest

from assistantd.objects.message_images import MAX_IMAGE_BYTES, mime_type
from tests.harness.images import ONE_PIXEL_GIF, png


def image_part(file_id: str) -> dict[str, Any]:
    return {"type": "image_file", "image_file": {"file_id": file_id, "detail": "low"}}


def deleted_file(client: openai.OpenAI) -> str:
    file_id = client.files.create(file=("gone.png", png()), purpose="vision").id
    client.files.delete(file_id)
    return file_id


def text_file(client: openai.OpenAI) -> str:
    return client.files.create(file=("notes.png", b"just words"), purpose="vision").id


def huge_file(client: openai.OpenAI) -> str:
    # A PNG signature, then padding past the limit: the size alone refuses it.
    data = png() + bytes(MAX_IMAGE_BYTES + 1 - len(png()))
    return client.files.create(file=("huge.png", data), purpose="vision").id


@pytest.mark.parametrize(
    ("make_file", "reason"),
    [
        (lambda client: "file-nope", "no file found with id"),
        (deleted_file, "no file found with id"),
        (text_file, "is not a PNG, JPEG, GIF or WebP image"),
        (huge_file, "an image may be at most 20 MB"),
    ],
    ids=["unknown", "deleted", "not-an-image", "too-large"],
)
def test_unusable_image_file_is_400_and_nothing_is_written(
    client: openai.OpenAI, make_file: Callable[[openai.OpenAI], str], reason: str
) -> None:
    file_id = make_file(client)
    thread = client.beta.threads.create()
    with pytest.raises(openai.BadRequestError) as raised:
        client.beta.threads.messages.create(
            thread.id, role="user", content=[{"type": "text", "text": "Look"}, image_part(file_id)]
        )
    error = raised.value.body
    assert error["type"] == "invalid_request_error"
    assert error["param"] == "content[1].image_file.file_id"
    assert reason in error["message"] and file_id in error["message"]
    assert client.beta.threads.messages.list(thread.id).data == []


def test_a_usable_image_file_is_accepted_and_kept_as_given(client: openai.OpenAI) -> None:
    file_id = client.files.create(file=("pixel.gif", ONE_PIXEL_GIF), purpose="assistants").id
    thread = client.beta.threads.create()
    message = client.beta.threads.messages.create(
        thread.id, role="assistant", content=[image_part(file_id)]
    )
    assert message.content[0].image_file.file_id == file_id
    assert message.content[0].image_file.detail == "low"


def test_the_param_names_where_the_message_is_in_the_request(client: openai.OpenAI) -> None:
    assistant = client.beta.assistants.create(model="gpt-4o")  # no run starts
    bad = [{"type": "text", "text": "Look"}, image_part("file-nope")]
    with pytest.raises(openai.BadRequestError) as raised:
        client.beta.threads.create(
            messages=[{"role": "user", "content": "Hi"}, {"role": "user", "content": bad}]
        )
    assert raised.value.body["param"] == "messages[1].content[1].image_file.file_id"
    with pytest.raises(openai.BadRequestError) as raised:
        client.beta.threads.create_and_run(
            assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": bad}]}
        )
    assert raised.value.body["param"] == "thread.messages[0].content[1].image_file.file_id"

    thread = client.beta.threads.create()
    with pytest.raises(openai.BadRequestError) as raised:
        client.beta.threads.runs.create(
            thread_id=thread.id,
            assistant_id=assistant.id,
            additional_messages=[{"role": "user", "content": bad}],
        )
    assert raised.value.body["param"] == "additional_messages[0].content[1].image_file.file_id"
    assert client.beta.threads.messages.list(thread.id).data == []
    assert client.beta.threads.runs.list(thread.id).data == []


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (png(), "image/png"),
        (ONE_PIXEL_GIF, "image/gif"),
        # Told by the signature alone: a JPEG's SOI marker and APP0 segment start, a WebP's RIFF
        # container with its VP8 chunk.
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"BM\x1e\x00\x00\x00", None),  # a BMP: an image, but not one the models take
        (b"%PDF-1.7", None),
    ],
)
def test_image_types_are_told_by_signature(head: bytes, expected: str | None) -> None:
    assert mime_type(head) == expected
