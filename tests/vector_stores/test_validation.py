"""Every limit of the vector-store API answers 400 (or 404) naming the parameter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest

Upload = Callable[[str, bytes | str], str]


@pytest.fixture
def store_id(client: openai.OpenAI) -> str:
    return client.vector_stores.create(name="limits").id


@pytest.mark.parametrize(
    ("static", "param"),
    [
        ({"max_chunk_size_tokens": 99, "chunk_overlap_tokens": 0}, "max_chunk_size_tokens"),
        ({"max_chunk_size_tokens": 4097, "chunk_overlap_tokens": 0}, "max_chunk_size_tokens"),
        ({"max_chunk_size_tokens": 400, "chunk_overlap_tokens": 201}, "chunking_strategy.static"),
    ],
)
def test_chunking_limits(
    client: openai.OpenAI, store_id: str, upload: Upload, static: dict, param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.vector_stores.files.create(
            vector_store_id=store_id,
            file_id=upload("a.txt", "text"),
            chunking_strategy={"type": "static", "static": static},
        )
    assert param in raised.value.body["param"]


def test_static_chunking_is_echoed(client: openai.OpenAI, store_id: str, upload: Upload) -> None:
    file = client.vector_stores.files.create_and_poll(
        vector_store_id=store_id,
        file_id=upload("a.txt", "some words " * 300),
        chunking_strategy={
            "type": "static",
            "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 50},
        },
    )
    assert file.status == "completed"
    assert file.chunking_strategy.static.max_chunk_size_tokens == 100
    assert file.chunking_strategy.static.chunk_overlap_tokens == 50


@pytest.mark.parametrize(
    "attributes",
    [
        {f"k{n}": n for n in range(17)},
        {"k" * 65: "v"},
        {"k": "v" * 513},
    ],
)
def test_attribute_limits(
    client: openai.OpenAI, store_id: str, upload: Upload, attributes: dict[str, Any]
) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.vector_stores.files.create(
            vector_store_id=store_id, file_id=upload("a.txt", "x"), attributes=attributes
        )
    assert raised.value.body["param"] == "attributes"


def test_unknown_ids_are_404(client: openai.OpenAI, store_id: str) -> None:
    with pytest.raises(openai.NotFoundError) as raised:
        client.vector_stores.files.create(vector_store_id=store_id, file_id="file-missing")
    assert raised.value.body["param"] == "file_id"
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.create(file_ids=["file-missing"])
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.files.create(vector_store_id="vs_missing", file_id="file-x")
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.file_batches.retrieve("vsfb_missing", vector_store_id=store_id)


def test_batch_size_and_shape(client: openai.OpenAI, store_id: str, http) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.vector_stores.file_batches.create(store_id, file_ids=[])
    assert raised.value.body["param"] == "file_ids"
    too_many = http.post(f"/vector_stores/{store_id}/file_batches", json={"file_ids": ["f"] * 2001})
    assert too_many.status_code == 400
    neither = http.post(f"/vector_stores/{store_id}/file_batches", json={})
    assert neither.status_code == 400
    over = http.post("/vector_stores", json={"file_ids": ["f"] * 501})
    assert over.status_code == 400 and over.json()["error"]["param"] == "file_ids"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"query": "x", "max_num_results": 0}, "max_num_results"),
        ({"query": "x", "max_num_results": 51}, "max_num_results"),
        ({"query": "x", "ranking_options": {"score_threshold": 1.5}}, "score_threshold"),
        ({"query": "x", "ranking_options": {"ranker": "best"}}, "ranker"),
        ({"query": "x", "filters": {"type": "eq", "value": 1}}, "filters"),
        ({"query": ""}, "query"),
    ],
)
def test_search_limits(http, store_id: str, body: dict, param: str) -> None:
    response = http.post(f"/vector_stores/{store_id}/search", json=body)
    assert response.status_code == 400
    assert param in response.json()["error"]["param"]


def test_list_filter_and_expiry_limits(http, store_id: str) -> None:
    bad_filter = http.get(f"/vector_stores/{store_id}/files", params={"filter": "done"})
    assert bad_filter.status_code == 400
    assert bad_filter.json()["error"]["param"] == "filter"
    expiry = http.post(
        "/vector_stores", json={"expires_after": {"anchor": "last_active_at", "days": 366}}
    )
    assert expiry.status_code == 400
    assert expiry.json()["error"]["param"] == "expires_after.days"
