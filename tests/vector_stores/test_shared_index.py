"""Several server processes on one PostgreSQL with pgvector: one chunk index, searched alike by
all of them, and each vector-store file indexed by exactly one of them, or taken over by
another when the one that claimed it died (its lease lapsed)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openai
import pytest
from sqlalchemy import select

from assistantd.store.database import Database
from assistantd.store.file_tables import VectorStoreFile
from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database, unavailable_reason
from tests.harness.redis_server import peer_settings
from tests.harness.server import running_server
from tests.vector_stores.conftest import embedding_settings, wait_until

TOPICS = ["volcanoes erupt lava", "glaciers carve valleys", "coral reefs bleach", "deserts bloom"]


@pytest.fixture
def pgvector_url(tmp_path: Path) -> Iterator[str]:
    reason = unavailable_reason("pgvector")
    if reason:
        pytest.skip(reason)
    with fresh_database("pgvector", tmp_path) as url:
        yield url


async def _claims(url: str) -> dict[str, tuple[str, str | None, int]]:
    """file id → (status, claimed_by, claims) of every vector-store file."""
    db = Database(url)
    try:
        async with db.read() as session:
            rows = (await session.execute(select(VectorStoreFile))).scalars()
            return {row.id: (row.status, row.claimed_by, row.claims) for row in rows}
    finally:
        await db.dispose()


def claims(url: str) -> dict[str, tuple[str, str | None, int]]:
    return asyncio.run(_claims(url))


def search_keys(client: openai.OpenAI, store_id: str, **options: object) -> list[tuple]:
    page = client.vector_stores.search(store_id, **options)
    return [(hit.file_id, hit.score, hit.content[0].text, hit.attributes) for hit in page.data]


def test_two_servers_share_one_index_and_index_each_file_once(
    pgvector_url: str, scripted_model_url: str, tmp_path: Path, contract_log: ContractLog
) -> None:
    # Fast sweeps: both servers see every waiting file at once and race for it.
    options = embedding_settings(scripted_model_url) | {"ingestion_sweep_interval_seconds": 0.05}
    options |= peer_settings(same_data_dir=True)
    # One data directory: the files' bytes are where both servers read them (a shared volume).
    first = make_settings(tmp_path, pgvector_url, **options)
    second = make_settings(tmp_path, pgvector_url, **options)
    with running_server(first) as one_url, running_server(second) as two_url:
        one, two = sdk_client(one_url, contract_log), sdk_client(two_url, contract_log)
        store = one.vector_stores.create(name="shared")
        for n in range(12):
            text = f"Note {n}: {TOPICS[n % len(TOPICS)]}. " * 20
            file = (one if n % 2 else two).files.create(
                file=(f"n{n}.txt", text.encode()), purpose="assistants"
            )
            client = one if n % 3 else two
            client.vector_stores.files.create(
                store.id, file_id=file.id, attributes={"n": n, "odd": n % 2 == 1}
            )
        wait_until(
            lambda: one.vector_stores.retrieve(store.id).file_counts.completed == 12,
            "all files indexed",
        )
        rows = claims(pgvector_url)
        assert len(rows) == 12
        assert all(status == "completed" and count == 1 for status, _, count in rows.values())

        # Either server answers every search the same, filtered or not.
        for query, extra in (
            ("lava from volcanoes", {}),
            ("valleys", {"filters": {"type": "eq", "key": "odd", "value": True}}),
            ("reefs", {"max_num_results": 3, "ranking_options": {"score_threshold": 0.1}}),
        ):
            ours = search_keys(one, store.id, query=query, **extra)
            assert ours and ours == search_keys(two, store.id, query=query, **extra)

        # Attribute updates and deletions through one server are what the other searches.
        odd = {"type": "eq", "key": "odd", "value": True}
        target = next(f for f in one.vector_stores.files.list(store.id) if f.attributes["n"] == 4)
        two.vector_stores.files.update(
            target.id, vector_store_id=store.id, attributes={"n": 4, "odd": True}
        )
        found = {
            hit.file_id
            for hit in one.vector_stores.search(
                store.id, query="glaciers", filters=odd, max_num_results=50
            )
        }
        assert target.id in found
        two.vector_stores.files.delete(target.id, vector_store_id=store.id)
        found = {
            hit.file_id
            for hit in one.vector_stores.search(store.id, query="glaciers", max_num_results=50)
        }
        assert target.id not in found


@contextmanager
def unanswering_endpoint() -> Iterator[str]:
    """A URL whose server takes connections and never answers: an embedder that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


def test_a_file_claimed_by_a_dead_server_is_taken_over(
    pgvector_url: str, scripted_model_url: str, tmp_path: Path, contract_log: ContractLog
) -> None:
    lease = {"ingestion_lease_seconds": 1.0, "ingestion_sweep_interval_seconds": 0.05}
    working = embedding_settings(scripted_model_url) | lease
    with unanswering_endpoint() as hanging_url:
        stuck = embedding_settings(scripted_model_url) | lease | {"embedding_base_url": hanging_url}
        with running_server(make_settings(tmp_path, pgvector_url, **stuck)) as base:
            client = sdk_client(base, contract_log)
            file = client.files.create(
                file=("v.txt", b"Volcanoes erupt lava. " * 20), purpose="assistants"
            )
            store = client.vector_stores.create(name="orphaned", file_ids=[file.id])
            wait_until(lambda: claims(pgvector_url)[file.id][1] is not None, "the first claim")
            dead_worker = claims(pgvector_url)[file.id][1]
        # That server is gone (stopped mid-embedding, its claim left behind as a crash leaves
        # it); the next one takes the file over once the lease has lapsed.
        with running_server(make_settings(tmp_path, pgvector_url, **working)) as base:
            client = sdk_client(base, contract_log)
            done = client.vector_stores.files.poll(file.id, vector_store_id=store.id)
            assert done.status == "completed"
            status, worker, count = claims(pgvector_url)[file.id]
            assert status == "completed"
            assert worker != dead_worker and count == 2
            assert client.vector_stores.search(store.id, query="volcanoes").data
