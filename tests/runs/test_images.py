"""Images in thread messages reach the model (vision): ``image_file`` parts go as chat-completions
``image_url`` parts carrying the file's bytes in a ``data:`` URL, as the scripted model records."""

from __future__ import annotations

import base64
from typing import Any

import openai
import pytest

from assistantd import tokens
from assistantd.runs import prompt
from tests.harness.images import ONE_PIXEL_GIF, png
from tests.runs.conftest import Scripted


def upload(client: openai.OpenAI, name: str, data: bytes, purpose: str = "vision") -> str:
    return client.files.create(file=(name, data), purpose=purpose).id


def run_on(client: openai.OpenAI, assistant: Any, thread_id: str, **options: Any) -> Any:
    return client.beta.threads.runs.create_and_poll(
        thread_id=thread_id, assistant_id=assistant.id, **options
    )


def sent_messages(scripted: Scripted, model: str, role: str) -> list[dict[str, Any]]:
    [request] = scripted.requests(model)
    return [message for message in request["messages"] if message["role"] == role]


def decoded(part: dict[str, Any]) -> tuple[str, bytes, str | None]:
    """An image_url part's MIME type, bytes and detail."""
    assert part["type"] == "image_url"
    head, _, payload = part["image_url"]["url"].partition(",")
    assert head.startswith("data:") and head.endswith(";base64")
    return head[5:-7], base64.b64decode(payload, validate=True), part["image_url"].get("detail")


def test_image_files_reach_the_model_as_data_urls_of_their_bytes(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any
) -> None:
    picture, pixel = png(3, 2), ONE_PIXEL_GIF
    picture_id = upload(client, "picture.png", picture)
    pixel_id = upload(client, "pixel.gif", pixel, purpose="assistants")
    thread = client.beta.threads.create()
    client.beta.threads.messages.create(
        thread.id,
        role="user",
        content=[
            {"type": "image_file", "image_file": {"file_id": picture_id, "detail": "high"}},
            {"type": "text", "text": "What is in these?"},
            {"type": "image_file", "image_file": {"file_id": pixel_id}},
        ],
    )
    scripted.script(model, {"text": "A red picture and a white pixel."})
    assert run_on(client, assistant, thread.id).status == "completed"
    [user] = sent_messages(scripted, model, "user")
    first, text, second = user["content"]
    assert decoded(first) == ("image/png", picture, "high")
    assert text == {"type": "text", "text": "What is in these?"}
    assert decoded(second) == ("image/gif", pixel, "auto")  # the spec's default, as stored


def test_a_file_deleted_since_is_left_out_and_the_text_kept(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any
) -> None:
    gone = upload(client, "gone.png", png())
    thread = client.beta.threads.create(
        messages=[
            {"role": "user", "content": [{"type": "image_file", "image_file": {"file_id": gone}}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe it."},
                    {"type": "image_file", "image_file": {"file_id": gone}},
                ],
            },
        ]
    )
    client.files.delete(gone)
    scripted.script(model, {"text": "I see no image."})
    run = run_on(client, assistant, thread.id)
    assert run.status == "completed"
    # The image-only message has nothing left to send; the other goes with its text.
    assert sent_messages(scripted, model, "user") == [{"role": "user", "content": "Describe it."}]


def test_assistant_messages_go_without_their_images(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any
) -> None:
    chart = upload(client, "chart.png", png(), purpose="assistants")
    thread = client.beta.threads.create(
        messages=[
            {"role": "user", "content": "Plot it."},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Here is the chart."},
                    {"type": "image_file", "image_file": {"file_id": chart}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/c.png"}},
                ],
            },
            {"role": "user", "content": "Thanks. Now in blue?"},
        ]
    )
    scripted.script(model, {"text": "Sure."})
    assert run_on(client, assistant, thread.id).status == "completed"
    # Chat completions take only text (and refusals) in an assistant message.
    assert sent_messages(scripted, model, "assistant") == [
        {"role": "assistant", "content": "Here is the chart."}
    ]


@pytest.mark.parametrize("kind", ["image_file", "image_url"])
def test_an_image_counts_as_an_image_not_as_its_base64_text(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, kind: str
) -> None:
    # ~68 kB of noise: as base64 text far beyond the run's prompt budget, as an image well within.
    noise = png(150, 150, noise=True)
    if kind == "image_file":
        image = {"type": "image_file", "image_file": {"file_id": upload(client, "n.png", noise)}}
    else:
        url = "data:image/png;base64," + base64.b64encode(noise).decode()
        image = {"type": "image_url", "image_url": {"url": url}}
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": [image, {"type": "text", "text": "What is it?"}]}]
    )
    scripted.script(model, {"text": "Noise."})
    run = run_on(client, assistant, thread.id, max_prompt_tokens=2000)
    assert run.status == "completed", run.incomplete_details
    [user] = sent_messages(scripted, model, "user")
    assert decoded(user["content"][0])[1] == noise
    assert run.usage.prompt_tokens < 2000


def test_the_quick_bound_counts_a_data_url_as_one_image() -> None:
    # The "surely fits" check must not take a megabyte of base64 for a megabyte of tokens, or
    # every prompt with an image would be counted token by token.
    url = "data:image/png;base64," + "A" * 1_000_000
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is it?"},
            {"type": "image_url", "image_url": {"url": url}},
        ],
    }
    bound = prompt._upper_bound([], [prompt._Unit(True, 1, [message])], [])
    assert tokens.count_messages([message]) <= bound < tokens.TOKENS_PER_IMAGE + 200
