"""``tool_resources.file_search.vector_stores`` on assistant and thread create: a store is made
from the files, attached by id, and indexed in the background."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest

from tests.vector_stores.conftest import wait_until

Upload = Callable[[str, bytes | str], str]


def test_assistant_create_makes_and_attaches_a_store(client: openai.OpenAI, upload: Upload) -> None:
    file_id = upload("guide.txt", "The espresso machine needs descaling every month. " * 20)
    assistant = client.beta.assistants.create(
        model="scripted",
        tools=[{"type": "file_search"}],
        tool_resources={
            "file_search": {"vector_stores": [{"file_ids": [file_id], "metadata": {"k": "v"}}]}
        },
    )
    (store_id,) = assistant.tool_resources.file_search.vector_store_ids
    store = client.vector_stores.retrieve(store_id)
    assert store.metadata == {"k": "v"}
    assert store.file_counts.total == 1
    wait_until(
        lambda: client.vector_stores.retrieve(store_id).file_counts.completed == 1,
        "the helper's store to be indexed",
    )
    assert client.vector_stores.search(store_id, query="descaling espresso").data


def test_thread_create_takes_the_helper_and_checks_it(
    client: openai.OpenAI, upload: Upload
) -> None:
    file_id = upload("a.txt", "words " * 50)
    thread = client.beta.threads.create(
        tool_resources={
            "file_search": {
                "vector_stores": [
                    {
                        "file_ids": [file_id],
                        "chunking_strategy": {
                            "type": "static",
                            "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 0},
                        },
                    }
                ]
            }
        }
    )
    (store_id,) = thread.tool_resources.file_search.vector_store_ids
    file = client.vector_stores.files.poll(file_id, vector_store_id=store_id)
    assert file.chunking_strategy.static.max_chunk_size_tokens == 200
    with pytest.raises(openai.BadRequestError) as raised:
        client.beta.threads.create(
            tool_resources={
                "file_search": {
                    "vector_stores": [
                        {
                            "file_ids": [file_id],
                            "chunking_strategy": {
                                "type": "static",
                                "static": {"max_chunk_size_tokens": 5, "chunk_overlap_tokens": 0},
                            },
                        }
                    ]
                }
            }
        )
    assert "chunking_strategy" in raised.value.body["param"]
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.create(
            tool_resources={"file_search": {"vector_stores": [{"file_ids": ["file-nope"]}]}}
        )
