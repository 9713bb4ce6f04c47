"""File bytes in object storage (``ASSISTANTD_BLOB_URL=s3://bucket/prefix``): files, uploads,
vector-store ingestion, message images and code_interpreter against a server whose blobs live in
a real S3-compatible server (moto's), and two servers sharing one database and one bucket."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest

from assistantd.config import Settings
from assistantd.store.blob_stores import BlobStoreUnavailable, open_blob_store
from assistantd.store.blobs import BlobTooLarge
from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database, unavailable_reason
from tests.harness.images import png
from tests.harness.redis_server import peer_settings
from tests.harness.s3 import S3Server, aws_environment, running_s3
from tests.harness.server import running_server
from tests.runs.conftest import Scripted
from tests.tools.code_interpreter.conftest import needs_sandbox
from tests.tools.code_interpreter.run_harness import new_assistant, new_model, run_code
from tests.vector_stores.conftest import embedding_settings, wait_until

PREFIX = "tenant-files/blobs"
MIB = 1024 * 1024


@dataclass(frozen=True)
class S3Backed:
    base_url: str
    bucket: str
    data_dir: Path

    def key(self, object_id: str) -> str:
        return f"{PREFIX}/{object_id}"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with running_s3() as server, aws_environment(server):
        yield server


def s3_settings(data_dir: Path, database_url: str, bucket: str, **overrides: object) -> Settings:
    return make_settings(data_dir, database_url, blob_url=f"s3://{bucket}/{PREFIX}", **overrides)


@pytest.fixture(scope="module")
def s3_server(
    s3: S3Server, scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[S3Backed]:
    """One server on SQLite whose file bytes are in a bucket of their own."""
    bucket = s3.new_bucket()
    data_dir = tmp_path_factory.mktemp("s3-backed")
    with fresh_database("sqlite", data_dir) as url:
        settings = s3_settings(data_dir, url, bucket, **embedding_settings(scripted_model_url))
        with running_server(settings) as base:
            yield S3Backed(base, bucket, data_dir)


@pytest.fixture
def s3_client(s3_server: S3Backed, contract_log: ContractLog) -> openai.OpenAI:
    return sdk_client(s3_server.base_url, contract_log)


def local_blobs(data_dir: Path) -> list[Path]:
    """Files the server keeps on its own disk (there should be none left with S3)."""
    files_dir = Settings(data_dir=data_dir).files_dir
    return [p for p in files_dir.rglob("*") if p.is_file()] if files_dir.exists() else []


def test_a_file_round_trips_through_the_bucket(
    s3_client: openai.OpenAI, s3_server: S3Backed, s3: S3Server
) -> None:
    small = s3_client.files.create(file=("notes.txt", b"hello s3"), purpose="assistants")
    # Larger than one part of a multipart upload, so the bytes go up in several.
    payload = os.urandom(9 * MIB + 123)
    large = s3_client.files.create(file=("big.bin", io.BytesIO(payload)), purpose="assistants")
    assert large.bytes == len(payload)
    assert s3_client.files.content(small.id).content == b"hello s3"
    assert s3_client.files.content(large.id).content == payload
    keys = s3.keys(s3_server.bucket)
    assert {s3_server.key(small.id), s3_server.key(large.id)} <= keys
    body = s3.client().get_object(Bucket=s3_server.bucket, Key=s3_server.key(large.id))["Body"]
    assert hashlib.sha256(body.read()).digest() == hashlib.sha256(payload).digest()
    assert local_blobs(s3_server.data_dir) == []


def test_an_empty_file_round_trips(s3_client: openai.OpenAI) -> None:
    empty = s3_client.files.create(file=("empty.txt", b""), purpose="assistants")
    assert empty.bytes == 0
    assert s3_client.files.content(empty.id).content == b""


def test_deleting_a_file_removes_its_object(
    s3_client: openai.OpenAI, s3_server: S3Backed, s3: S3Server
) -> None:
    file = s3_client.files.create(file=("gone.txt", b"bye"), purpose="assistants")
    assert s3_server.key(file.id) in s3.keys(s3_server.bucket)
    assert s3_client.files.delete(file.id).deleted
    assert s3_server.key(file.id) not in s3.keys(s3_server.bucket)
    with pytest.raises(openai.NotFoundError):
        s3_client.files.content(file.id)


def test_a_resumable_upload_assembles_its_parts_in_the_bucket(
    s3_client: openai.OpenAI, s3_server: S3Backed, s3: S3Server, tmp_path: Path
) -> None:
    before = s3.keys(s3_server.bucket)
    payload = os.urandom(300_000)
    source = tmp_path / "dataset.jsonl"
    source.write_bytes(payload)
    upload = s3_client.uploads.upload_file_chunked(
        file=source, mime_type="application/jsonl", purpose="batch", part_size=64_000
    )
    assert upload.status == "completed" and upload.file is not None
    assert s3_client.files.content(upload.file.id).content == payload
    # The parts were objects of their own until complete; only the file is left.
    assert s3.keys(s3_server.bucket) - before == {s3_server.key(upload.file.id)}


def test_parts_with_md5_and_a_cancelled_upload_leave_no_parts(
    s3_client: openai.OpenAI, s3_server: S3Backed, s3: S3Server
) -> None:
    before = s3.keys(s3_server.bucket)
    pieces = [b"first-", b"second-", b"third"]
    whole = b"".join(reversed(pieces))
    upload = s3_client.uploads.create(
        filename="notes.txt", purpose="assistants", bytes=len(whole), mime_type="text/plain"
    )
    parts = [s3_client.uploads.parts.create(upload.id, data=piece) for piece in pieces]
    assert len(s3.keys(s3_server.bucket) - before) == 3
    done = s3_client.uploads.complete(
        upload.id, part_ids=[p.id for p in reversed(parts)], md5=hashlib.md5(whole).hexdigest()
    )
    assert s3_client.files.content(done.file.id).content == whole

    cancelled = s3_client.uploads.create(
        filename="x.txt", purpose="assistants", bytes=3, mime_type="text/plain"
    )
    s3_client.uploads.parts.create(cancelled.id, data=b"abc")
    s3_client.uploads.cancel(cancelled.id)
    assert s3.keys(s3_server.bucket) - before == {s3_server.key(done.file.id)}


def test_a_message_image_is_checked_from_its_first_bytes_in_the_bucket(
    s3_client: openai.OpenAI,
) -> None:
    image = s3_client.files.create(file=("dot.png", png()), purpose="vision")
    empty = s3_client.files.create(file=("empty.png", b""), purpose="vision")
    thread = s3_client.beta.threads.create()
    message = s3_client.beta.threads.messages.create(
        thread.id,
        role="user",
        content=[{"type": "image_file", "image_file": {"file_id": image.id}}],
    )
    assert message.content[0].image_file.file_id == image.id
    with pytest.raises(openai.BadRequestError) as raised:
        s3_client.beta.threads.messages.create(
            thread.id,
            role="user",
            content=[{"type": "image_file", "image_file": {"file_id": empty.id}}],
        )
    assert "not a PNG" in raised.value.body["message"]


def test_a_vector_store_indexes_a_file_from_the_bucket(s3_client: openai.OpenAI) -> None:
    text = "The aurora borealis over Tromsø is brightest in February. Reference E-7731."
    file = s3_client.files.create(file=("aurora.txt", text.encode()), purpose="assistants")
    store = s3_client.vector_stores.create(name="s3", file_ids=[file.id])

    def indexed() -> bool:
        found = s3_client.vector_stores.files.retrieve(file.id, vector_store_id=store.id)
        assert found.status != "failed", found.last_error
        return found.status == "completed"

    wait_until(indexed, "the file to be indexed")
    hits = s3_client.vector_stores.search(store.id, query="E-7731 aurora").data
    assert hits and hits[0].file_id == file.id
    pages = s3_client.vector_stores.files.content(file.id, vector_store_id=store.id).data
    assert "Tromsø" in pages[0].text


@needs_sandbox
def test_code_interpreter_reads_an_input_and_writes_an_output_through_the_bucket(
    s3_client: openai.OpenAI, scripted_model_url: str
) -> None:
    scripted = Scripted(scripted_model_url)
    sales = s3_client.files.create(
        file=("sales.csv", b"region,amount\nnorth,10\nsouth,20\n"), purpose="assistants"
    )
    assistant = new_assistant(s3_client, new_model(), file_ids=[sales.id])
    thread = s3_client.beta.threads.create(messages=[{"role": "user", "content": "Double it."}])
    code = (
        "import pandas as pd\n"
        "df = pd.read_csv('/mnt/data/sales.csv')\n"
        "df['amount'] *= 2\n"
        "df.to_csv('/mnt/data/doubled.csv', index=False)\n"
        "print(int(df['amount'].sum()))"
    )
    answer = "Download [doubled.csv](sandbox:/mnt/data/doubled.csv)."
    done = run_code(s3_client, scripted, assistant, thread.id, code, answer)
    assert done.run.status == "completed"
    assert done.logs.strip() == "60"
    [annotation] = done.message.content[0].text.annotations
    content = s3_client.files.content(annotation.file_path.file_id).read()
    assert content == b"region,amount\nnorth,20\nsouth,40\n"


# Scale-out: processes that share a database must share the bytes too.


@pytest.fixture(scope="module")
def two_servers(
    s3: S3Server, postgres_skip_reason: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    """Two servers, each with its own data dir, on one PostgreSQL database (with pgvector, for a
    shared chunk index), Redis and one bucket: what they need to run side by side."""
    if reason := postgres_skip_reason or unavailable_reason("pgvector"):
        pytest.skip(reason)
    peers = peer_settings(same_data_dir=False)
    bucket = s3.new_bucket()
    first_dir = tmp_path_factory.mktemp("s3-first")
    second_dir = tmp_path_factory.mktemp("s3-second")
    with (
        fresh_database("pgvector", first_dir) as url,
        running_server(s3_settings(first_dir, url, bucket, **peers)) as first,
        running_server(s3_settings(second_dir, url, bucket, **peers)) as second,
    ):
        yield first, second, bucket


def test_a_file_uploaded_through_one_process_is_served_by_another(
    two_servers: tuple[str, str, str], contract_log: ContractLog, s3: S3Server
) -> None:
    first_url, second_url, bucket = two_servers
    first, second = sdk_client(first_url, contract_log), sdk_client(second_url, contract_log)
    payload = os.urandom(200_000)
    file = first.files.create(file=("shared.bin", payload), purpose="assistants")
    assert second.files.content(file.id).content == payload

    upload = second.uploads.create(
        filename="parts.txt", purpose="assistants", bytes=6, mime_type="text/plain"
    )
    part = second.uploads.parts.create(upload.id, data=b"abcdef")
    done = first.uploads.complete(upload.id, part_ids=[part.id])  # parts added elsewhere
    assert first.files.content(done.file.id).content == b"abcdef"

    assert second.files.delete(file.id).deleted
    assert f"{PREFIX}/{file.id}" not in s3.keys(bucket)
    with pytest.raises(openai.NotFoundError):
        first.files.content(file.id)


# Start-up: a store that cannot be reached is said at once, naming what to fix.


async def test_a_missing_bucket_fails_start_up_naming_the_settings(
    s3: S3Server, tmp_path: Path
) -> None:
    missing = f"no-such-bucket-{uuid.uuid4().hex[:8]}"
    settings = Settings(data_dir=tmp_path, blob_url=f"s3://{missing}/x")
    with pytest.raises(BlobStoreUnavailable) as raised:
        await open_blob_store(settings.blob_url, settings.files_dir)
    message = str(raised.value)
    assert "ASSISTANTD_BLOB_URL" in message and missing in message
    assert "AWS_ENDPOINT_URL" in message


async def test_an_unreachable_endpoint_fails_start_up(
    s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.harness.server import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    settings = Settings(data_dir=tmp_path, blob_url="s3://any-bucket")
    with pytest.raises(BlobStoreUnavailable) as raised:
        await open_blob_store(settings.blob_url, settings.files_dir)
    assert "AWS_ENDPOINT_URL" in str(raised.value)


@pytest.mark.parametrize("url", ["s3://", "file:///tmp/x", "s3:///prefix", "bucket/prefix"])
async def test_a_malformed_blob_url_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(BlobStoreUnavailable, match="ASSISTANTD_BLOB_URL"):
        settings = Settings(data_dir=tmp_path, blob_url=url)
        await open_blob_store(settings.blob_url, settings.files_dir)


async def test_stores_say_whether_processes_share_their_blobs(s3: S3Server, tmp_path: Path) -> None:
    local = await open_blob_store(None, tmp_path / "local")
    shared = await open_blob_store(f"s3://{s3.new_bucket()}", tmp_path / "s3")
    try:
        assert (local.shared, shared.shared) == (False, True)
    finally:
        await local.close()
        await shared.close()


# The store protocol itself, the same for both stores: what callers rely on.


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, s3: S3Server, tmp_path: Path) -> AsyncIterator[Any]:
    url = f"s3://{s3.new_bucket()}/p" if request.param == "s3" else None
    opened = await open_blob_store(url, tmp_path / "files")
    yield opened
    await opened.close()


async def test_both_stores_keep_the_same_contract(store: Any, tmp_path: Path) -> None:
    staged = store.stage()
    for piece in (b"abc", b"def" * 1000):
        staged.write(piece)
    await staged.commit("file-a")
    staged.discard()  # after commit: a no-op, as callers' finally blocks do
    whole = b"abc" + b"def" * 1000
    assert await store.size("file-a") == len(whole)
    assert await store.read("file-a") == whole
    assert await store.head("file-a", 4) == b"abcd"
    assert await store.head("file-a", 10**6) == whole
    assert b"".join([chunk async for chunk in store.iter_bytes("file-a")]) == whole

    empty = store.stage()
    await empty.commit("file-empty")
    assert (await store.size("file-empty"), await store.head("file-empty", 8)) == (0, b"")

    abandoned = store.stage(max_bytes=4)
    with pytest.raises(BlobTooLarge):
        abandoned.write(b"12345")
    abandoned.discard()
    assert not list((tmp_path / "files").glob(".staging-*"))  # nothing staged is left

    await store.delete("file-a")
    await store.delete("file-a")  # deleting what is gone is fine
    for missing in (
        store.size("file-a"),
        store.read("file-a"),
        store.head("file-a", 4),
        anext(aiter(store.iter_bytes("file-a"))),
    ):
        with pytest.raises(FileNotFoundError):
            await missing
    escaping = store.stage()
    with pytest.raises(ValueError):  # keys are server-made ids, never paths
        await escaping.commit("../escape")
    escaping.discard()
