"""Vector stores through the official SDK: the store object, its files and background indexing."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest

from tests.vector_stores.conftest import wait_until

Upload = Callable[[str, bytes | str], str]

ANIMALS = "The giraffe is the tallest living animal; its long neck reaches acacia leaves. " * 40
SHIPS = "A clipper ship was a fast sailing vessel of the nineteenth century with many sails. " * 40


def test_create_retrieve_modify_list_delete(client: openai.OpenAI) -> None:
    store = client.vector_stores.create(
        name="docs",
        description="accepted, not echoed",
        metadata={"team": "a"},
        expires_after={"anchor": "last_active_at", "days": 2},
    )
    assert store.id.startswith("vs_")
    assert (store.object, store.name, store.status, store.usage_bytes) == (
        "vector_store",
        "docs",
        "completed",
        0,
    )
    assert store.file_counts.total == 0
    assert store.expires_at == store.last_active_at + 2 * 86400
    assert client.vector_stores.retrieve(store.id) == store
    renamed = client.vector_stores.update(store.id, name="renamed", metadata={"team": "b"})
    assert (renamed.name, renamed.metadata) == ("renamed", {"team": "b"})
    assert store.id in [s.id for s in client.vector_stores.list(limit=100)]
    assert client.vector_stores.delete(store.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        client.vector_stores.retrieve(store.id)


def test_create_with_files_indexes_them_in_the_background(
    client: openai.OpenAI, upload: Upload
) -> None:
    file_ids = [upload("animals.txt", ANIMALS), upload("ships.md", SHIPS)]
    store = client.vector_stores.create(name="two", file_ids=file_ids)
    assert store.file_counts.total == 2
    wait_until(
        lambda: client.vector_stores.retrieve(store.id).status == "completed", "the store to index"
    )
    done = client.vector_stores.retrieve(store.id)
    assert done.file_counts.completed == 2
    assert done.usage_bytes > 0
    listed = client.vector_stores.files.list(store.id, filter="completed")
    assert sorted(f.id for f in listed) == sorted(file_ids)
    assert all(f.status == "completed" and f.last_error is None for f in listed)


def test_upload_and_poll_then_content_and_search(client: openai.OpenAI) -> None:
    store = client.vector_stores.create(name="search")
    animals = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=("animals.txt", ANIMALS.encode())
    )
    client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=("ships.txt", SHIPS.encode())
    )
    assert animals.status == "completed"
    assert animals.chunking_strategy.type == "static"
    assert animals.chunking_strategy.static.max_chunk_size_tokens == 800
    content = client.vector_stores.files.content(animals.id, vector_store_id=store.id)
    assert "giraffe" in "".join(part.text for part in content)

    results = client.vector_stores.search(store.id, query="tallest giraffe neck")
    assert results.data[0].file_id == animals.id
    assert results.data[0].filename == "animals.txt"
    assert "giraffe" in results.data[0].content[0].text
    assert results.search_query == ["tallest giraffe neck"]
    assert all(0 <= hit.score <= 1 for hit in results.data)

    top = results.data[0].score
    above = client.vector_stores.search(
        store.id, query="tallest giraffe neck", ranking_options={"score_threshold": top}
    )
    assert above.data and all(hit.score >= top for hit in above.data)
    one = client.vector_stores.search(
        store.id, query=["clipper sails", "vessel"], max_num_results=1
    )
    assert len(one.data) == 1 and "clipper" in one.data[0].content[0].text
    rewritten = client.vector_stores.search(
        store.id, query="Could you tell me which animal is the tallest?", rewrite_query=True
    )
    assert rewritten.search_query == ["animal tallest"]
    assert rewritten.data[0].file_id == animals.id


def test_search_filters_on_attributes(client: openai.OpenAI, upload: Upload) -> None:
    store = client.vector_stores.create(name="filters")
    for name, text, year in (("a.txt", ANIMALS, 2023), ("s.txt", SHIPS, 2024)):
        client.vector_stores.files.create_and_poll(
            vector_store_id=store.id,
            file_id=upload(name, text),
            attributes={"year": year, "kind": name[0]},
        )
    recent = client.vector_stores.search(
        store.id, query="giraffe", filters={"type": "gte", "key": "year", "value": 2024}
    )
    assert recent.data and {hit.filename for hit in recent.data} == {"s.txt"}
    assert recent.data[0].attributes == {"year": 2024, "kind": "s"}
    either = client.vector_stores.search(
        store.id,
        query="giraffe",
        filters={
            "type": "or",
            "filters": [
                {"type": "eq", "key": "kind", "value": "a"},
                {"type": "eq", "key": "kind", "value": "zzz"},
            ],
        },
    )
    assert {hit.filename for hit in either.data} == {"a.txt"}


def test_updated_attributes_are_searched(client: openai.OpenAI, upload: Upload) -> None:
    store = client.vector_stores.create(name="attrs")
    file = client.vector_stores.files.create_and_poll(
        vector_store_id=store.id, file_id=upload("a.txt", ANIMALS), attributes={"tag": "old"}
    )
    updated = client.vector_stores.files.update(
        file.id, vector_store_id=store.id, attributes={"tag": "new"}
    )
    assert updated.attributes == {"tag": "new"}
    found = client.vector_stores.search(
        store.id, query="giraffe", filters={"type": "eq", "key": "tag", "value": "new"}
    )
    assert found.data and found.data[0].attributes == {"tag": "new"}


def test_file_batch_upload_and_poll_with_an_unsupported_file(client: openai.OpenAI) -> None:
    store = client.vector_stores.create(name="batch")
    batch = client.vector_stores.file_batches.upload_and_poll(
        store.id,
        files=[
            ("animals.txt", ANIMALS.encode()),
            ("ships.txt", SHIPS.encode()),
            ("picture.png", b"\x89PNG\r\n\x1a\n not text at all"),
        ],
    )
    assert batch.object == "vector_store.files_batch"
    assert batch.status == "completed"
    assert (batch.file_counts.completed, batch.file_counts.failed, batch.file_counts.total) == (
        2,
        1,
        3,
    )
    failed = client.vector_stores.file_batches.list_files(
        batch.id, vector_store_id=store.id, filter="failed"
    ).data
    assert len(failed) == 1
    assert failed[0].last_error.code == "unsupported_file"
    listed = client.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id)
    assert len(listed.data) == 3
    after = client.vector_stores.retrieve(store.id)
    assert after.status == "completed"
    assert (after.file_counts.completed, after.file_counts.failed) == (2, 1)
    assert client.vector_stores.search(store.id, query="giraffe").data


def test_batch_with_files_entries_and_cancel(client: openai.OpenAI, upload: Upload) -> None:
    store = client.vector_stores.create(name="cancel")
    file_ids = [upload(f"f{n}.txt", f"document {n} " + SHIPS) for n in range(6)]
    batch = client.vector_stores.file_batches.create(
        store.id, files=[{"file_id": file_id, "attributes": {"n": 1}} for file_id in file_ids]
    )
    cancelled = client.vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
    assert cancelled.status == "cancelled"
    final = client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id)
    assert final.file_counts.in_progress == 0
    assert final.file_counts.completed + final.file_counts.cancelled == 6
    files = client.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id)
    assert {f.status for f in files} <= {"completed", "cancelled"}
    searchable = {hit.file_id for hit in client.vector_stores.search(store.id, query="ship").data}
    cancelled_ids = {f.id for f in files if f.status == "cancelled"}
    assert not searchable & cancelled_ids


def test_removing_from_store_keeps_the_file(client: openai.OpenAI, upload: Upload) -> None:
    store = client.vector_stores.create(name="remove")
    file = client.vector_stores.files.create_and_poll(
        vector_store_id=store.id, file_id=upload("a.txt", ANIMALS)
    )
    removed = client.vector_stores.files.delete(file.id, vector_store_id=store.id)
    assert (removed.object, removed.deleted) == ("vector_store.file.deleted", True)
    assert client.files.retrieve(file.id).id == file.id
    assert client.vector_stores.search(store.id, query="giraffe").data == []
    assert client.vector_stores.retrieve(store.id).file_counts.total == 0


def test_deleting_a_file_removes_it_from_every_store(client: openai.OpenAI, upload: Upload) -> None:
    file_id = upload("a.txt", ANIMALS)
    stores = [client.vector_stores.create(name=f"s{n}", file_ids=[file_id]) for n in range(2)]
    for store in stores:
        client.vector_stores.files.poll(file_id, vector_store_id=store.id)
    client.files.delete(file_id)
    for store in stores:
        assert client.vector_stores.files.list(store.id).data == []
        assert client.vector_stores.retrieve(store.id).file_counts.total == 0
        assert client.vector_stores.search(store.id, query="giraffe").data == []
        with pytest.raises(openai.NotFoundError):
            client.vector_stores.files.retrieve(file_id, vector_store_id=store.id)
