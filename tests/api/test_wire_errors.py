"""What the SDK hides: status codes, error bodies and their exact shape, over plain HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.harness.contract import ContractLog, check_response


def _error(response: httpx.Response, status: int, log: ContractLog) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    check_response(log, response.request.method, response.request.url.path, status, body)
    return body["error"]


def test_malformed_json(http: httpx.Client, contract_log: ContractLog) -> None:
    response = http.post(
        "/assistants", content=b'{"model": ', headers={"content-type": "application/json"}
    )
    error = _error(response, 400, contract_log)
    assert error["type"] == "invalid_request_error"
    assert "parse the JSON body" in error["message"]


def test_unknown_route(http: httpx.Client, contract_log: ContractLog) -> None:
    error = _error(http.get("/nonexistent"), 404, contract_log)
    assert error["message"] == "Invalid URL (GET /v1/nonexistent)"


def test_wrong_method(http: httpx.Client, contract_log: ContractLog) -> None:
    _error(http.put("/assistants"), 405, contract_log)


@pytest.mark.parametrize(
    ("query", "param"),
    [("limit=0", "limit"), ("limit=101", "limit"), ("limit=x", "limit"), ("order=up", "order")],
)
def test_list_parameters_out_of_range(
    http: httpx.Client, contract_log: ContractLog, query: str, param: str
) -> None:
    error = _error(http.get(f"/assistants?{query}"), 400, contract_log)
    assert error["param"] == param


def test_unknown_cursor(http: httpx.Client, contract_log: ContractLog) -> None:
    error = _error(http.get("/assistants?after=asst_nope"), 400, contract_log)
    assert error["param"] == "after"


def test_unknown_ids_are_404(http: httpx.Client, contract_log: ContractLog) -> None:
    thread = http.post("/threads").json()
    for path in (
        "/assistants/asst_nope",
        "/threads/thread_nope",
        f"/threads/{thread['id']}/messages/msg_nope",
        "/threads/thread_nope/messages",
    ):
        error = _error(http.get(path), 404, contract_log)
        assert error["type"] == "invalid_request_error"


def test_thread_body_is_optional(http: httpx.Client) -> None:
    assert http.post("/threads").status_code == 200
    assert http.post("/threads", json={}).status_code == 200


def test_list_envelope_of_an_empty_list(http: httpx.Client) -> None:
    thread = http.post("/threads").json()
    body = http.get(f"/threads/{thread['id']}/messages").json()
    assert body == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }


def test_health(http: httpx.Client) -> None:
    response = httpx.get(str(http.base_url).removesuffix("/v1/").removesuffix("/v1") + "/health")
    assert response.status_code == 200
