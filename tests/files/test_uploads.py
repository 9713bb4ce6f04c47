"""``/uploads``: a file sent in parts, through the SDK's chunked helper and by hand."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server


def test_upload_file_chunked_round_trips(client: openai.OpenAI, tmp_path: Path) -> None:
    payload = os.urandom(250_000)
    source = tmp_path / "dataset.jsonl"
    source.write_bytes(payload)
    upload = client.uploads.upload_file_chunked(
        file=source, mime_type="application/jsonl", purpose="batch", part_size=64_000
    )
    assert upload.status == "completed"
    assert upload.file is not None
    assert (upload.file.filename, upload.file.bytes, upload.file.purpose) == (
        "dataset.jsonl",
        len(payload),
        "batch",
    )
    assert client.files.content(upload.file.id).content == payload


def test_manual_parts_assembled_in_part_ids_order_with_md5(client: openai.OpenAI) -> None:
    pieces = [b"first-", b"second-", b"third"]
    whole = b"".join(reversed(pieces))
    upload = client.uploads.create(
        filename="notes.txt", purpose="assistants", bytes=len(whole), mime_type="text/plain"
    )
    assert (upload.status, upload.object, upload.file) == ("pending", "upload", None)
    assert upload.expires_at == upload.created_at + 3600
    parts = [client.uploads.parts.create(upload.id, data=piece) for piece in pieces]
    assert all(p.object == "upload.part" and p.upload_id == upload.id for p in parts)
    # Assembled in the order of part_ids, not the order the parts arrived in.
    done = client.uploads.complete(
        upload.id, part_ids=[p.id for p in reversed(parts)], md5=hashlib.md5(whole).hexdigest()
    )
    assert done.status == "completed"
    assert client.files.content(done.file.id).content == whole
    with pytest.raises(openai.BadRequestError):
        client.uploads.parts.create(upload.id, data=b"late")
    with pytest.raises(openai.BadRequestError):
        client.uploads.cancel(upload.id)


def test_md5_mismatch_is_400_and_upload_stays_pending(client: openai.OpenAI) -> None:
    upload = client.uploads.create(
        filename="a.txt", purpose="assistants", bytes=3, mime_type="text/plain"
    )
    part = client.uploads.parts.create(upload.id, data=b"abc")
    with pytest.raises(openai.BadRequestError) as raised:
        client.uploads.complete(upload.id, part_ids=[part.id], md5="0" * 32)
    assert raised.value.body["param"] == "md5"
    done = client.uploads.complete(upload.id, part_ids=[part.id])
    assert client.files.content(done.file.id).content == b"abc"


def test_wrong_total_is_400(client: openai.OpenAI) -> None:
    upload = client.uploads.create(
        filename="a.txt", purpose="assistants", bytes=10, mime_type="text/plain"
    )
    part = client.uploads.parts.create(upload.id, data=b"short")
    with pytest.raises(openai.BadRequestError) as raised:
        client.uploads.complete(upload.id, part_ids=[part.id])
    assert "10" in raised.value.body["message"]
    with pytest.raises(openai.BadRequestError):
        client.uploads.complete(upload.id, part_ids=["part_unknown"])


def test_cancel_stops_parts(client: openai.OpenAI) -> None:
    upload = client.uploads.create(
        filename="a.txt", purpose="assistants", bytes=3, mime_type="text/plain"
    )
    client.uploads.parts.create(upload.id, data=b"abc")
    cancelled = client.uploads.cancel(upload.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.uploads.parts.create(upload.id, data=b"abc")


def test_unknown_upload_is_404_and_declared_size_is_limited(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.uploads.parts.create("upload_nope", data=b"x")
    with pytest.raises(openai.BadRequestError) as raised:
        client.uploads.create(
            filename="huge.bin", purpose="batch", bytes=10**13, mime_type="text/plain"
        )
    assert raised.value.body["param"] == "bytes"


@pytest.fixture(scope="module")
def upload_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own, so the test can look at what its blob store holds on disk."""
    data_dir = tmp_path_factory.mktemp(f"uploads-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(data_dir, url)
        with running_server(settings) as base:
            yield Server(base, settings.files_dir)


@dataclass(frozen=True)
class Server:
    base_url: str
    files_dir: Path

    def stored(self) -> set[str]:
        return {path.name for path in self.files_dir.iterdir()}


def test_parts_past_the_declared_bytes_are_refused_and_not_kept(
    upload_server: Server, contract_log: ContractLog
) -> None:
    client = sdk_client(upload_server.base_url, contract_log)
    upload = client.uploads.create(
        filename="a.txt", purpose="assistants", bytes=10, mime_type="text/plain"
    )
    before = upload_server.stored()
    for data in (b"x" * 10 * 1024 * 1024, b"x" * 11):
        with pytest.raises(openai.BadRequestError) as raised:
            client.uploads.parts.create(upload.id, data=data)
        assert raised.value.body["param"] == "data"
        assert "10" in raised.value.body["message"]
    assert upload_server.stored() == before
    first = client.uploads.parts.create(upload.id, data=b"abcdef")
    with pytest.raises(openai.BadRequestError) as raised:
        client.uploads.parts.create(upload.id, data=b"ghijk")  # 6 + 5 > 10
    assert raised.value.body["param"] == "data"
    assert upload_server.stored() == before | {first.id}
    last = client.uploads.parts.create(upload.id, data=b"ghij")  # exactly fills it
    done = client.uploads.complete(upload.id, part_ids=[first.id, last.id])
    assert client.files.content(done.file.id).content == b"abcdefghij"


def test_parts_sent_at_once_cannot_pass_the_declared_bytes_together(
    upload_server: Server, contract_log: ContractLog
) -> None:
    client = sdk_client(upload_server.base_url, contract_log)
    for _ in range(3):
        upload = client.uploads.create(
            filename="a.txt", purpose="assistants", bytes=10, mime_type="text/plain"
        )
        start = threading.Barrier(4)

        def send(data: bytes, upload_id: str = upload.id, start: threading.Barrier = start) -> str:
            start.wait()
            try:
                return client.uploads.parts.create(upload_id, data=data).id
            except openai.BadRequestError as refused:
                assert refused.body["param"] == "data"
                return ""

        with ThreadPoolExecutor(4) as pool:
            accepted = [part for part in pool.map(send, [b"123456"] * 4) if part]
        assert len(accepted) == 1
        rest = client.uploads.parts.create(upload.id, data=b"7890")
        done = client.uploads.complete(upload.id, part_ids=[*accepted, rest.id])
        assert client.files.content(done.file.id).content == b"1234567890"
