"""Text a database cannot hold — a lone UTF-16 surrogate, or NUL — is refused where the request
comes in (400 naming the param, on both databases), and the refused request writes nothing: the
tenant's lists keep answering."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.harness.contract import ContractLog, check_response

# JSON escapes, sent as raw bytes: a JSON encoder would refuse to write a lone surrogate.
SURROGATE = "\\ud800"
NUL = "\\u0000"


def _post(http: httpx.Client, path: str, raw_json: str) -> httpx.Response:
    return http.post(path, content=raw_json.encode(), headers={"content-type": "application/json"})


def _rejected(response: httpx.Response, param: str, log: ContractLog) -> None:
    body = response.json()
    check_response(log, response.request.method, response.request.url.path, 400, body)
    assert response.status_code == 400, body
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == param


def _ids(http: httpx.Client, path: str) -> list[str]:
    response = http.get(path, params={"limit": 100})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


@pytest.mark.parametrize("bad", [SURROGATE, NUL], ids=["surrogate", "nul"])
@pytest.mark.parametrize(
    ("template", "param"),
    [
        ('{"model": "m", "name": "aBADb"}', "name"),
        ('{"model": "m", "metadata": {"k": "BAD"}}', "metadata.k"),
        ('{"model": "m", "instructions": "BAD"}', "instructions"),
        ('{"model": "m", "metadata": {"BAD": "v"}}', "metadata"),
    ],
)
def test_assistants(
    http: httpx.Client, contract_log: ContractLog, bad: str, template: str, param: str
) -> None:
    before = _ids(http, "/assistants")
    _rejected(_post(http, "/assistants", template.replace("BAD", bad)), param, contract_log)
    assert _ids(http, "/assistants") == before


@pytest.mark.parametrize("bad", [SURROGATE, NUL], ids=["surrogate", "nul"])
def test_vector_store_names(http: httpx.Client, contract_log: ContractLog, bad: str) -> None:
    before = _ids(http, "/vector_stores")
    _rejected(
        _post(http, "/vector_stores", '{"name": "BAD"}'.replace("BAD", bad)), "name", contract_log
    )
    assert _ids(http, "/vector_stores") == before


@pytest.mark.parametrize("bad", [SURROGATE, NUL], ids=["surrogate", "nul"])
def test_threads_and_messages(http: httpx.Client, contract_log: ContractLog, bad: str) -> None:
    thread = http.post("/threads").json()["id"]
    _rejected(
        _post(http, f"/threads/{thread}", '{"metadata": {"k": "BAD"}}'.replace("BAD", bad)),
        "metadata.k",
        contract_log,
    )
    assert http.get(f"/threads/{thread}").json()["metadata"] == {}
    _rejected(
        _post(
            http,
            f"/threads/{thread}/messages",
            '{"role": "user", "content": "BAD"}'.replace("BAD", bad),
        ),
        "content",
        contract_log,
    )
    parts = '{"role": "user", "content": [{"type": "text", "text": "ok"}, {"type": "text", "text": "BAD"}]}'
    _rejected(
        _post(http, f"/threads/{thread}/messages", parts.replace("BAD", bad)),
        "content[1].text",
        contract_log,
    )
    assert _ids(http, f"/threads/{thread}/messages") == []
    nested = '{"messages": [{"role": "user", "content": "BAD"}]}'
    _rejected(
        _post(http, "/threads", nested.replace("BAD", bad)), "messages[0].content", contract_log
    )


def test_nul_in_query_and_path_parameters(http: httpx.Client, contract_log: ContractLog) -> None:
    _rejected(http.get("/assistants", params={"after": "asst_\x00"}), "after", contract_log)
    _rejected(http.get("/assistants/asst_%00"), "assistant_id", contract_log)


def test_text_that_can_be_stored_still_can(http: httpx.Client) -> None:
    """Astral characters arrive as escaped surrogate *pairs*: those are whole characters."""
    body = _post(http, "/assistants", '{"model": "m", "name": "\\ud83d\\ude00 \\u00e9"}')
    assert body.status_code == 200, body.text
    assert body.json()["name"] == "😀 é"
    assert json.loads(http.get(f"/assistants/{body.json()['id']}").text)["name"] == "😀 é"
