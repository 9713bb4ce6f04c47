"""Input that fuzzing found answering 500: every one is a 400 naming the parameter, and nothing
is written."""

from __future__ import annotations

import httpx
import pytest

from tests.harness.contract import ContractLog, check_response

FILE_SEARCH_ATTACHMENT = {"file_id": "", "tools": [{"type": "file_search"}]}


def _rejected(response: httpx.Response, param: str, log: ContractLog) -> None:
    body = response.json()
    check_response(log, response.request.method, response.request.url.path, 400, body)
    assert response.status_code == 400, body
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == param


@pytest.fixture
def store_id(http: httpx.Client) -> str:
    return http.post("/vector_stores", json={"name": "bad input"}).json()["id"]


@pytest.fixture
def thread_id(http: httpx.Client) -> str:
    return http.post("/threads").json()["id"]


def test_empty_file_id_in_a_batch(http: httpx.Client, store_id: str, contract_log) -> None:
    response = http.post(f"/vector_stores/{store_id}/file_batches", json={"file_ids": [""]})
    _rejected(response, "file_ids[0]", contract_log)
    assert http.get(f"/vector_stores/{store_id}/files").json()["data"] == []


def test_empty_file_id_in_a_new_store(http: httpx.Client, contract_log) -> None:
    before = http.get("/vector_stores", params={"limit": 100}).json()["data"]
    response = http.post("/vector_stores", json={"name": "never", "file_ids": [""]})
    _rejected(response, "file_ids[0]", contract_log)
    assert http.get("/vector_stores", params={"limit": 100}).json()["data"] == before


def test_empty_file_id_in_a_message_attachment(
    http: httpx.Client, thread_id: str, contract_log
) -> None:
    body = {"role": "user", "content": "x", "attachments": [FILE_SEARCH_ATTACHMENT]}
    response = http.post(f"/threads/{thread_id}/messages", json=body)
    _rejected(response, "attachments[0].file_id", contract_log)
    assert http.get(f"/threads/{thread_id}/messages").json()["data"] == []
    assert http.get(f"/threads/{thread_id}").json()["tool_resources"] == {}


def test_empty_file_id_in_a_thread_message_attachment(http: httpx.Client, contract_log) -> None:
    message = {"role": "user", "content": "x", "attachments": [FILE_SEARCH_ATTACHMENT]}
    response = http.post("/threads", json={"messages": [message]})
    _rejected(response, "messages[0].attachments[0].file_id", contract_log)


@pytest.mark.parametrize(
    "body",
    [
        {"file_ids": ["", "file-x"]},
        {"files": [{"file_id": ""}]},
    ],
)
def test_empty_file_ids_elsewhere(http: httpx.Client, store_id: str, body: dict) -> None:
    response = http.post(f"/vector_stores/{store_id}/file_batches", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["param"] in ("file_ids[0]", "files[0].file_id")


@pytest.mark.parametrize("kind", [{}, [], 1, None])
def test_filter_type_that_is_not_a_string(
    http: httpx.Client, store_id: str, kind: object, contract_log
) -> None:
    body = {"query": "x", "filters": {"key": "k", "type": kind, "value": False}}
    _rejected(http.post(f"/vector_stores/{store_id}/search", json=body), "filters", contract_log)


def test_nested_filter_type_that_is_not_a_string(
    http: httpx.Client, store_id: str, contract_log
) -> None:
    body = {"query": "x", "filters": {"type": "and", "filters": [{"type": {"a": 1}}]}}
    _rejected(http.post(f"/vector_stores/{store_id}/search", json=body), "filters", contract_log)
