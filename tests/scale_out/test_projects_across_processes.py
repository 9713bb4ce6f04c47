"""Projects, keys and rate limits on a scaled-out deployment: three processes on one PostgreSQL
database and Redis, a round-robin proxy in front, the official SDK (and httpx for the admin
API) against it. A key rotated through any process — a second service account's key added, the
first deleted — leaves the project's objects to the second key and stops the first on every
process without a restart; a rate limit counts the requests of all processes together."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.api.test_rate_limits import start_of_a_minute
from tests.harness.admin import ADMIN_KEY, AdminClient
from tests.harness.clients import sdk_client
from tests.harness.cluster import cluster
from tests.harness.contract import ContractLog
from tests.harness.proxy import round_robin
from tests.runs.conftest import wait_for

ROLES = ["serve", "serve --no-worker", "serve --no-worker"]


@pytest.fixture
def env(shared_env: dict[str, str]) -> dict[str, str]:
    return {**shared_env, "ASSISTANTD_ADMIN_KEY": ADMIN_KEY}


def _status(url: str, key: str, path: str) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.get(f"{url}/v1{path}", headers=headers, timeout=30).status_code


def test_keys_rotate_and_rate_limits_count_on_every_process(
    env: dict[str, str], tmp_path: Path, contract_log: ContractLog, model: str
) -> None:
    # One deployment for both (three processes take ~40 s to start on a small machine).
    with (
        cluster(ROLES, tmp_path, env) as servers,
        round_robin([s.url for s in servers if s.url]) as (url, _proxy),
    ):
        processes = [s.url for s in servers if s.url]
        _rotate_a_key(url, processes, contract_log, model)
        _limit_requests(url, contract_log, model)


def _rotate_a_key(url: str, processes: list[str], contract_log: ContractLog, model: str) -> None:
    admin = AdminClient(url)
    project = admin.project("Rotated")["id"]
    first = admin.service_account(project, "first")["api_key"]
    client = sdk_client(url, contract_log, api_key=first["value"])
    assistant = client.beta.assistants.create(model=model, name="survives rotation")
    path = f"/assistants/{assistant.id}"
    # Every process has the first key in its cache before the rotation.
    assert [_status(p, first["value"], path) for p in processes] == [200] * 3

    second = admin.service_account(project, "second")["api_key"]
    admin.call("DELETE", f"/projects/{project}/api_keys/{first['id']}")

    for process in processes:
        wait_for(lambda p=process: _status(p, first["value"], path), lambda s: s == 401)
        assert _status(process, second["value"], path) == 200
    rotated = sdk_client(url, contract_log, api_key=second["value"])
    assert rotated.beta.assistants.retrieve(assistant.id).name == "survives rotation"
    with pytest.raises(openai.AuthenticationError):
        client.beta.assistants.list()
    # And neither key opens the admin API, nor the admin key the project's routes.
    assert _status(url, second["value"], "/organization/projects") == 401
    assert _status(url, ADMIN_KEY, "/assistants") == 401


def _limit_requests(url: str, contract_log: ContractLog, model: str) -> None:
    admin = AdminClient(url)
    project, key = admin.project_key("Limited")
    admin.limit(project, model, max_requests_per_1_minute=4)
    client = sdk_client(url, contract_log, api_key=key)
    assistant = client.beta.assistants.create(model=model)
    thread = {"messages": [{"role": "user", "content": "Hi"}]}

    def create() -> httpx.Response:
        return client.beta.threads.with_raw_response.create_and_run(
            assistant_id=assistant.id, thread=thread
        ).http_response

    # Every process knows the limit within its key cache's check interval (1 s).
    time.sleep(1.5)
    start_of_a_minute()
    answers = []
    for _ in range(5):  # over the three processes, round robin
        try:
            answers.append(create().headers["x-ratelimit-remaining-requests"])
        except openai.RateLimitError as refused:
            answers.append(refused.response.status_code)
    assert answers == ["3", "2", "1", "0", 429]
