"""A model endpoint that is not what ``ASSISTANTD_LLM_BASE_URL`` should point at, or that refuses
the key: the run fails, and its ``last_error.message`` says the URL and what to check (seen
through the official SDK). The endpoint is a small real HTTP server answering as a web page, a
path nothing serves, or a wrong key would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
import pytest

from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.harness.wrong_endpoints import endpoints


@contextmanager
def server(
    tmp_path_factory: pytest.TempPathFactory, contract_log: ContractLog, **settings: Any
) -> Iterator[openai.OpenAI]:
    data_dir = tmp_path_factory.mktemp("endpoint-errors")
    fast = {"llm_max_retries": 0, "llm_timeout_seconds": 10}
    with (
        fresh_database("sqlite", data_dir) as url,
        running_server(make_settings(data_dir, url, **fast, **settings)) as base,
    ):
        yield sdk_client(base, contract_log)


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    with endpoints() as base:
        yield base


@pytest.fixture(scope="module")
def client(
    stub: str, tmp_path_factory: pytest.TempPathFactory, contract_log: ContractLog
) -> Iterator[openai.OpenAI]:
    """Its default endpoint refuses ``ASSISTANTD_LLM_API_KEY``; routes go to the others."""
    routes = {
        "web-ui": {"base_url": f"{stub}/ui"},
        "nowhere": {"base_url": f"{stub}/nothing/v1"},
        "own-key": {"base_url": f"{stub}/locked/v1", "api_key": "sk-route"},
    }
    with server(
        tmp_path_factory,
        contract_log,
        llm_base_url=f"{stub}/locked/v1",
        llm_api_key="sk-wrong",
        model_routes=routes,
    ) as sdk:
        yield sdk


def _last_error(client: openai.OpenAI, model: str) -> Any:
    assistant = client.beta.assistants.create(model=model)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "failed"
    return run.last_error


@pytest.mark.parametrize(
    ("model", "path", "answer"),
    [("web-ui", "/ui", "200 with an HTML page"), ("nowhere", "/nothing/v1", "404 Not Found")],
)
def test_an_endpoint_that_is_not_openai_compatible_is_said_so(
    client: openai.OpenAI, stub: str, model: str, path: str, answer: str
) -> None:
    error = _last_error(client, model)
    assert error.code == "server_error"
    assert f"{stub}{path}/chat/completions answered {answer}" in error.message
    assert "is this an OpenAI-compatible /v1 endpoint?" in error.message


def test_a_refused_default_key_names_assistantd_llm_api_key(client: openai.OpenAI) -> None:
    error = _last_error(client, "any-model")
    assert error.code == "server_error"
    assert "refused the API key (401): Incorrect API key provided" in error.message
    assert "ASSISTANTD_LLM_API_KEY" in error.message


def test_a_refused_route_key_names_the_route_in_assistantd_model_routes(
    client: openai.OpenAI,
) -> None:
    error = _last_error(client, "own-key")
    assert "the api_key of the route for 'own-key' in ASSISTANTD_MODEL_ROUTES" in error.message


def test_a_refusal_when_no_key_is_set_says_which_settings_hold_one(
    stub: str, tmp_path_factory: pytest.TempPathFactory, contract_log: ContractLog
) -> None:
    with server(tmp_path_factory, contract_log, llm_base_url=f"{stub}/locked/v1") as sdk:
        error = _last_error(sdk, "any-model")
    assert "no API key was sent: set ASSISTANTD_LLM_API_KEY" in error.message
