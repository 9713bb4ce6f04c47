"""``x-request-id``: on every response (the client's own when it sent one), on the server's log
lines of that request, and on the end line of the run the request created."""

from __future__ import annotations

import uuid

import httpx
import openai

from tests.harness.clients import sdk_client
from tests.harness.cluster import ServerProcess
from tests.harness.contract import ContractLog
from tests.observability.conftest import lines_with
from tests.runs.conftest import wait_for


def test_every_response_has_a_request_id_that_the_log_shows(
    served: ServerProcess, contract_log: ContractLog, model: str
) -> None:
    assert served.url is not None
    client = sdk_client(served.url, contract_log)
    assistant = client.beta.assistants.create(model=model)
    raw = client.beta.assistants.with_raw_response.retrieve(assistant.id)
    ids = [assistant._request_id, raw.request_id, raw.headers.get("x-request-id")]
    try:
        client.beta.assistants.retrieve("asst_missing")
    except openai.NotFoundError as error:
        ids.append(error.request_id)
    ids.append(httpx.get(f"{served.url}/health").headers.get("x-request-id"))
    assert all(ids) and len(set(ids)) == 4, ids  # raw.request_id is its header
    for request_id in set(ids):
        wait_for(lambda rid=request_id: lines_with(served, rid), bool, seconds=10)


def test_a_request_id_the_client_sends_comes_back(
    served: ServerProcess, contract_log: ContractLog, model: str
) -> None:
    assert served.url is not None
    client = sdk_client(served.url, contract_log)
    mine = f"client-{uuid.uuid4().hex}"
    assistant = client.beta.assistants.create(model=model, extra_headers={"x-request-id": mine})
    assert assistant._request_id == mine
    # One that cannot go into a header or a log line as it is gets replaced.
    response = httpx.get(f"{served.url}/health", headers={"x-request-id": "x" * 500})
    assert response.headers["x-request-id"].startswith("req_")


def test_a_runs_end_line_carries_the_id_of_the_request_that_created_it(
    served: ServerProcess, contract_log: ContractLog, model: str
) -> None:
    assert served.url is not None
    client = sdk_client(served.url, contract_log)
    assistant = client.beta.assistants.create(model=model)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
    mine = f"create-{uuid.uuid4().hex}"
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, extra_headers={"x-request-id": mine}
    )
    assert run.status == "completed"
    [line] = wait_for(lambda: lines_with(served, f"run {run.id} ended"), bool, seconds=10)
    assert f"[{mine}]" in line
    assert "status=completed" in line and f"model={model}" in line
    assert "tenant=default" in line and "completion_tokens=" in line
    # The id is the server's bookkeeping, not part of the run the client sees.
    assert mine not in client.beta.threads.runs.retrieve(run.id, thread_id=thread.id).to_json()
