"""File expiry (``expires_after`` on upload) as a user sees it, through the official SDK: an expired
file is gone for every purpose at once (lists, retrieve, content, delete, anywhere a file id is
accepted), and the sweep then deletes its bytes and its vector-store entries for good.

``expires_after`` is at least an hour (the spec's minimum), so the tests move the clock instead of
waiting: time-machine moves ``time.time`` for the whole process, the servers' threads included
(their timers run on the monotonic clock, which it leaves alone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import time_machine
from openai.types import FileObject

from assistantd.retrieval import file_expiry
from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database, unavailable_reason
from tests.harness.redis_server import peer_settings
from tests.harness.server import running_server
from tests.vector_stores.conftest import embedding_settings, wait_until

HOUR = {"anchor": "created_at", "seconds": 3600}
TEXT = "Tidal pools hold anemones, crabs and sea stars between the tides. " * 20
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)  # what an image_file part is checked for


@contextmanager
def past_expiry(*expiring: FileObject) -> Iterator[None]:
    """The clock a second past the last of these files' ``expires_at``, then back."""
    latest = max(file.expires_at or 0 for file in expiring)
    with time_machine.travel(latest + 1, tick=True):
        yield


@pytest.fixture(scope="module")
def unswept(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[tuple[openai.OpenAI, httpx.Client]]:
    """A server whose sweep never comes round during these tests: what clients see of an expired
    file is the queries' doing alone."""
    data_dir = tmp_path_factory.mktemp(f"unswept-{backend}")
    settings = embedding_settings(scripted_model_url) | {"file_sweep_interval_seconds": 3600}
    with (
        fresh_database(backend, data_dir) as url,
        running_server(make_settings(data_dir, url, **settings)) as base,
        httpx.Client(base_url=f"{base}/v1", timeout=30) as http,
    ):
        yield sdk_client(base, contract_log), http


@pytest.fixture(scope="module")
def sweeping(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[tuple[openai.OpenAI, Path]]:
    """A server that sweeps for expired files every 50 ms; yields its client and blob folder."""
    data_dir = tmp_path_factory.mktemp(f"sweeping-{backend}")
    settings = embedding_settings(scripted_model_url) | {"file_sweep_interval_seconds": 0.05}
    with (
        fresh_database(backend, data_dir) as url,
        running_server(make_settings(data_dir, url, **settings)) as base,
    ):
        yield sdk_client(base, contract_log), data_dir / "files"


def _upload(
    client: openai.OpenAI, name: str, expiring: bool = False, content: bytes = TEXT.encode()
) -> FileObject:
    extra: dict[str, Any] = {"expires_after": HOUR} if expiring else {}
    return client.files.create(file=(name, content), purpose="assistants", **extra)


def _rejection(call: Callable[[], object]) -> tuple[int, Any, Any]:
    with pytest.raises(openai.APIStatusError) as raised:
        call()
    body = raised.value.body
    assert isinstance(body, dict)
    return raised.value.status_code, body.get("type"), body.get("param")


def test_an_expired_file_cannot_be_retrieved_read_or_deleted(
    unswept: tuple[openai.OpenAI, httpx.Client],
) -> None:
    client, _ = unswept
    kept = _upload(client, "kept.txt")
    expiring = _upload(client, "expiring.txt", expiring=True)
    assert client.files.retrieve(expiring.id) == expiring
    with past_expiry(expiring):
        with pytest.raises(openai.NotFoundError):
            client.files.retrieve(expiring.id)
        with pytest.raises(openai.NotFoundError):
            client.files.content(expiring.id)
        with pytest.raises(openai.NotFoundError):
            client.files.delete(expiring.id)
        assert expiring.id not in [f.id for f in client.files.list()]
        assert client.files.retrieve(kept.id) == kept
        assert client.files.content(kept.id).content == TEXT.encode()


def test_an_expired_file_is_refused_where_a_deleted_one_is(
    unswept: tuple[openai.OpenAI, httpx.Client],
) -> None:
    client, _ = unswept
    deleted = _upload(client, "deleted.png", content=PNG)
    client.files.delete(deleted.id)
    expiring = _upload(client, "expiring.png", expiring=True, content=PNG)
    store = client.vector_stores.create(name="target")
    thread = client.beta.threads.create()
    uses: dict[str, Callable[[str], object]] = {
        "vector store create": lambda file_id: client.vector_stores.create(file_ids=[file_id]),
        "vector store file add": lambda file_id: client.vector_stores.files.create(
            vector_store_id=store.id, file_id=file_id
        ),
        "file batch": lambda file_id: client.vector_stores.file_batches.create(
            vector_store_id=store.id, file_ids=[file_id]
        ),
        "file_search attachment": lambda file_id: client.beta.threads.messages.create(
            thread.id,
            role="user",
            content="Look",
            attachments=[{"file_id": file_id, "tools": [{"type": "file_search"}]}],
        ),
        "image_file part": lambda file_id: client.beta.threads.messages.create(
            thread.id,
            role="user",
            content=[{"type": "image_file", "image_file": {"file_id": file_id}}],
        ),
    }
    with past_expiry(expiring):
        for use, call in uses.items():
            refused = _rejection(lambda call=call: call(expiring.id))
            assert refused == _rejection(lambda call=call: call(deleted.id)), use
            assert refused[0] in (400, 404), use
    assert client.vector_stores.retrieve(store.id).file_counts.total == 0
    assert client.beta.threads.messages.list(thread.id).data == []


def test_lists_page_over_expired_files(unswept: tuple[openai.OpenAI, httpx.Client]) -> None:
    client, http = unswept
    start = _upload(client, "start.txt")
    first = _upload(client, "first.txt")
    gone = [_upload(client, f"gone-{n}.txt", expiring=True) for n in range(2)]
    second = _upload(client, "second.txt")
    last_gone = _upload(client, "last-gone.txt", expiring=True)
    with past_expiry(*gone, last_gone):
        page = http.get("/files", params={"after": start.id, "order": "asc", "limit": 2}).json()
        assert [f["id"] for f in page["data"]] == [first.id, second.id]
        assert (page["first_id"], page["last_id"], page["has_more"]) == (
            first.id,
            second.id,
            False,
        )
        one = client.files.list(after=start.id, order="asc", limit=1)
        assert ([f.id for f in one.data], one.has_more) == ([first.id], True)
        # The SDK's auto-paging follows the ``after`` cursors page by page.
        paged = [f.id for f in client.files.list(after=start.id, order="asc", limit=1)]
        assert paged == [first.id, second.id]
        newest = client.files.list(order="desc", limit=1)
        assert ([f.id for f in newest.data], newest.has_more) == ([second.id], True)
        # A cursor may still name a file that expired while the client paged.
        after_gone = client.files.list(after=gone[0].id, order="asc")
        assert [f.id for f in after_gone.data] == [second.id]


def test_the_sweep_deletes_an_expired_files_bytes_and_its_place_in_vector_stores(
    sweeping: tuple[openai.OpenAI, Path],
) -> None:
    client, blobs = sweeping
    kept = _upload(client, "kept.txt")
    expiring = _upload(client, "expiring.txt", expiring=True)
    store = client.vector_stores.create(file_ids=[kept.id, expiring.id])
    wait_until(
        lambda: client.vector_stores.retrieve(store.id).file_counts.completed == 2, "indexing"
    )
    kept_usage = client.vector_stores.files.retrieve(kept.id, vector_store_id=store.id).usage_bytes
    assert client.vector_stores.retrieve(store.id).usage_bytes > kept_usage > 0
    assert (blobs / expiring.id).exists()

    with past_expiry(expiring):
        wait_until(lambda: not (blobs / expiring.id).exists(), "the sweep")
        counts = client.vector_stores.retrieve(store.id).file_counts
        assert (counts.total, counts.completed) == (1, 1)
        assert client.vector_stores.retrieve(store.id).usage_bytes == kept_usage
        assert [f.id for f in client.vector_stores.files.list(store.id)] == [kept.id]
        with pytest.raises(openai.NotFoundError):
            client.vector_stores.files.retrieve(expiring.id, vector_store_id=store.id)
        with pytest.raises(openai.NotFoundError):
            client.files.retrieve(expiring.id)
        hits = client.vector_stores.search(store.id, query="tidal pools anemones").data
        assert {hit.file_id for hit in hits} == {kept.id}
    assert (blobs / kept.id).exists()
    assert client.files.content(kept.id).content == TEXT.encode()


# Several server processes share a PostgreSQL database (with pgvector: the chunk index is
# shared too, as it must be for them to run side by side), never a SQLite one.
def test_servers_sharing_a_database_sweep_without_getting_in_each_others_way(
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
    caplog: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
) -> None:
    sweeper_log = file_expiry.log.name
    data_dir = tmp_path_factory.mktemp("two-sweepers")
    if reason := unavailable_reason("pgvector"):
        pytest.skip(reason)
    with fresh_database("pgvector", data_dir) as url:
        peers = peer_settings(same_data_dir=True)
        settings = make_settings(data_dir, url, file_sweep_interval_seconds=0.02, **peers)
        with running_server(settings) as one_base, running_server(settings) as two_base:
            one, two = sdk_client(one_base, contract_log), sdk_client(two_base, contract_log)
            expiring = [
                _upload(client, f"f{n}.txt", expiring=True)
                for n in range(20)
                for client in (one, two)
            ]
            with past_expiry(*expiring):
                wait_until(
                    lambda: not any((data_dir / "files" / f.id).exists() for f in expiring),
                    "the sweeps",
                )
                assert one.files.list().data == two.files.list().data == []
    failures = [r for r in caplog.records if r.name == sweeper_log and r.levelno >= logging.ERROR]
    assert failures == [], [r.getMessage() for r in failures]
    # A file deleted by both (no error, but "expected to delete 1 row(s); 0 were matched").
    twice = [w for w in recwarn if "DELETE statement" in str(w.message)]
    assert twice == [], [str(w.message) for w in twice]
