"""Per-project rate limits (``/v1/organization/projects/{id}/rate_limits``): run creation over a
project's requests or tokens per minute for the run's model is 429 ``rate_limit_exceeded`` with
``x-ratelimit-*`` headers, and creates nothing; other models and projects are not limited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.conftest import make_settings
from tests.harness.admin import ADMIN_KEY, AdminClient
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.runs.conftest import model

__all__ = ["model"]


@pytest.fixture(scope="module")
def limited_server(
    backend: str, scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp(f"limits-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(
            data_dir, url, admin_key=ADMIN_KEY, llm_base_url=scripted_model_url,
            auth_cache_seconds=0.2,
        )  # fmt: skip
        with running_server(settings) as base:
            yield base


def start_of_a_minute() -> None:
    """Wait, if the current one-minute window is about to close, for the next one: a test that
    counts requests in one window must not straddle two."""
    into = time.time() % 60
    if into > 45:
        time.sleep(60.5 - into)


def _run(client: openai.OpenAI, assistant_id: str, **options: Any) -> Any:
    return client.beta.threads.with_raw_response.create_and_run(
        assistant_id=assistant_id,
        thread={"messages": [{"role": "user", "content": "Hi"}]},
        **options,
    )


def test_requests_over_the_limit_are_429_with_headers_and_create_nothing(
    limited_server: str, contract_log: ContractLog, model: str
) -> None:
    admin = AdminClient(limited_server)
    project, key = admin.project_key("Limited")
    limit = admin.limit(project, model, max_requests_per_1_minute=2)
    assert limit == {
        "object": "project.rate_limit", "id": f"rl-{model}", "model": model,
        "max_requests_per_1_minute": 2, "max_tokens_per_1_minute": None,
    }  # fmt: skip
    assert admin.call("GET", f"/projects/{project}/rate_limits")["data"] == [limit]
    client = sdk_client(limited_server, contract_log, api_key=key)
    assistant = client.beta.assistants.create(model=model)
    # Wait until the server's key cache has the new limit (it may hold the key from before).
    time.sleep(0.3)

    start_of_a_minute()
    answer = _run(client, assistant.id)
    assert answer.headers["x-ratelimit-remaining-requests"] == "1"
    with client.beta.threads.with_streaming_response.create_and_run(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "Hi"}]},
        stream=True,
    ) as streamed:  # fmt: skip
        assert streamed.headers["x-ratelimit-remaining-requests"] == "0"
    thread = client.beta.threads.create()
    with pytest.raises(openai.RateLimitError) as refused:
        client.beta.threads.runs.create(
            thread_id=thread.id,
            assistant_id=assistant.id,
            additional_messages=[{"role": "user", "content": "Hi"}],
        )
    response = refused.value.response
    assert response.status_code == 429
    error = response.json()["error"]
    assert (error["code"], error["type"]) == ("rate_limit_exceeded", "requests")
    assert response.headers["x-ratelimit-limit-requests"] == "2"
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-ratelimit-reset-requests"].endswith("s")
    # Nothing was created: no run, no additional message.
    assert client.beta.threads.runs.list(thread.id).data == []
    assert client.beta.threads.messages.list(thread.id).data == []

    # The run's own model counts: another model of the same project is not limited, and has
    # no limit headers.
    other = _run(client, assistant.id, model=f"{model}-other")
    assert "x-ratelimit-limit-requests" not in other.headers
    # Another project is not limited either.
    _, other_key = admin.project_key("Unlimited")
    other_client = sdk_client(limited_server, contract_log, api_key=other_key)
    other_assistant = other_client.beta.assistants.create(model=model)
    assert _run(other_client, other_assistant.id).http_response.status_code == 200

    # Lifting the limit (null) lets the project go on.
    admin.limit(project, model, max_requests_per_1_minute=None)
    time.sleep(0.3)
    assert _run(client, assistant.id).http_response.status_code == 200


def test_tokens_over_the_limit_are_429(
    limited_server: str, contract_log: ContractLog, model: str
) -> None:
    admin = AdminClient(limited_server)
    project, key = admin.project_key("Token limited")
    admin.limit(project, model, max_tokens_per_1_minute=5)
    client = sdk_client(limited_server, contract_log, api_key=key)
    assistant = client.beta.assistants.create(model=model)
    run = client.beta.threads.create_and_run_poll(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "Hi there"}]}
    )
    assert run.status == "completed" and run.usage.total_tokens >= 5
    with pytest.raises(openai.RateLimitError) as refused:
        client.beta.threads.create_and_run(
            assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "Hi"}]}
        )
    response = refused.value.response
    assert response.json()["error"]["type"] == "tokens"
    assert response.headers["x-ratelimit-limit-tokens"] == "5"
    assert response.headers["x-ratelimit-remaining-tokens"] == "0"
    # A run on a thread of its own (create run) is limited the same way.
    thread = client.beta.threads.create()
    with pytest.raises(openai.RateLimitError):
        client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    assert client.beta.threads.runs.list(thread.id).data == []


def test_rate_limit_ids_and_projects_are_checked(limited_server: str) -> None:
    admin = AdminClient(limited_server)
    project = admin.project("Checks")["id"]
    admin.call("POST", f"/projects/{project}/rate_limits/gpt-4o", status=404, json={})
    admin.call("POST", "/projects/proj_missing/rate_limits/rl-gpt-4o", status=404, json={})
    bad = {"max_requests_per_1_minute": -1}
    admin.call("POST", f"/projects/{project}/rate_limits/rl-gpt-4o", status=400, json=bad)
    assert admin.call("GET", f"/projects/{project}/rate_limits")["data"] == []
