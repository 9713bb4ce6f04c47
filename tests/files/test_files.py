"""``/files`` through the official SDK: upload, list, retrieve, content, delete, limits."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server

SMALL_LIMIT = 4096


@pytest.fixture(scope="module")
def small_limit_server(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp(f"small-files-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(data_dir, url, max_file_bytes=SMALL_LIMIT)
        with running_server(settings) as base:
            yield base, data_dir


def test_bytes_round_trip_exactly(client: openai.OpenAI) -> None:
    payload = os.urandom(300_000) + b"\x00\r\n\xff"
    created = client.files.create(file=("blob.bin", payload), purpose="assistants")
    assert created.id.startswith("file-")
    assert created.object == "file"
    assert (created.bytes, created.filename, created.purpose) == (
        len(payload),
        "blob.bin",
        "assistants",
    )
    assert created.status == "processed"
    assert created.expires_at is None
    assert client.files.retrieve(created.id) == created
    assert client.files.content(created.id).content == payload


def test_content_is_octet_stream_whatever_accept_says(client: openai.OpenAI, http) -> None:
    created = client.files.create(file=("a.json", b'{"a": 1}'), purpose="user_data")
    response = http.get(f"/files/{created.id}/content", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b'{"a": 1}'


def test_expires_after_sets_expires_at(client: openai.OpenAI) -> None:
    created = client.files.create(
        file=("e.txt", b"soon gone"),
        purpose="batch",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert created.expires_at == created.created_at + 3600


def test_expires_after_out_of_range_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.files.create(
            file=("e.txt", b"x"),
            purpose="batch",
            expires_after={"anchor": "created_at", "seconds": 5},
        )
    assert raised.value.body["param"] == "expires_after.seconds"


def test_list_filters_by_purpose_and_pages(client: openai.OpenAI) -> None:
    made = [
        client.files.create(file=(f"v{n}.png", b"img" * n), purpose="vision").id for n in range(3)
    ]
    vision = client.files.list(purpose="vision").data
    assert [f.id for f in vision][:3] == made[::-1]
    assert {f.purpose for f in vision} == {"vision"}
    first = client.files.list(purpose="vision", limit=2, order="asc")
    assert first.has_more is (len(vision) > 2)
    everything = [f.id for f in client.files.list(purpose="vision", limit=1, order="asc")]
    assert everything == [f.id for f in vision][::-1]


def test_list_limit_bounds(http) -> None:
    assert http.get("/files", params={"limit": 0}).status_code == 400
    assert http.get("/files", params={"limit": 10_001}).status_code == 400
    assert http.get("/files", params={"limit": 10_000}).status_code == 200


def test_delete_removes_record_and_content(client: openai.OpenAI, http) -> None:
    created = client.files.create(file=("d.txt", b"delete me"), purpose="assistants")
    deleted = client.files.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "file", True)
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)
    assert http.get(f"/files/{created.id}/content").status_code == 404
    with pytest.raises(openai.NotFoundError):
        client.files.delete(created.id)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("a/b/c.md", "c.md"),
    ],
)
def test_path_like_filenames_are_only_names(client: openai.OpenAI, sent: str, kept: str) -> None:
    created = client.files.create(file=(sent, b"text"), purpose="assistants")
    assert created.filename == kept
    assert client.files.content(created.id).content == b"text"


def test_filename_with_nul_is_rejected(http) -> None:
    # Written by hand: httpx would percent-encode the NUL.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x00b.txt"\r\n\r\n'
        b"x\r\n--b--\r\n"
    )
    response = http.post(
        "/files", content=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "file"


def test_missing_file_or_bad_purpose_is_400(http) -> None:
    no_file = http.post("/files", data={"purpose": "assistants"}, files={"other": ("a", b"x")})
    assert no_file.status_code == 400
    assert no_file.json()["error"]["param"] == "file"
    bad = http.post("/files", data={"purpose": "nonsense"}, files={"file": ("a.txt", b"x")})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "purpose"


def test_size_limit_is_413_and_leaves_nothing(
    small_limit_server: tuple[str, Path], contract_log: ContractLog
) -> None:
    base, data_dir = small_limit_server
    client = sdk_client(base, contract_log)
    with pytest.raises(openai.APIStatusError) as raised:
        client.files.create(file=("big.bin", b"x" * (SMALL_LIMIT + 1)), purpose="assistants")
    assert raised.value.status_code == 413
    assert raised.value.body["type"] == "invalid_request_error"
    assert "too large" in raised.value.body["message"]
    exact = client.files.create(file=("ok.bin", b"y" * SMALL_LIMIT), purpose="assistants")
    assert [p.name for p in (data_dir / "files").iterdir()] == [exact.id]
    assert [f.id for f in client.files.list().data] == [exact.id]


def test_body_cut_off_mid_upload_leaves_nothing(small_limit_server: tuple[str, Path]) -> None:
    base, data_dir = small_limit_server
    before = sorted(p.name for p in (data_dir / "files").iterdir())
    body = (
        b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\nabc'
    )
    response = httpx.post(
        f"{base}/v1/files",
        content=io.BytesIO(body).read(),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 400
    assert sorted(p.name for p in (data_dir / "files").iterdir()) == before
