"""A model endpoint that is not what ``ASSISTANTD_LLM_BASE_URL`` should point at, or that refuses
the key: the run fails, and its ``last_error.message`` says the URL and what to check (seen
through the official SDK). The endpoint is a small real HTTP server answering as a web page, a
path nothing serves, or a wrong key would."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
import pytest
from aiohttp import web

from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import free_port, running_server

PAGE = "<!doctype html><html><body><h1>Welcome to the dashboard</h1></body></html>"
REFUSED = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}


def _endpoints() -> web.Application:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def not_found(_request: web.Request) -> web.Response:
        return web.Response(status=404, text="404 page not found")

    async def refused(_request: web.Request) -> web.Response:
        return web.Response(status=401, text=json.dumps(REFUSED), content_type="application/json")

    app = web.Application()
    app.router.add_post("/ui/chat/completions", page)
    app.router.add_post("/nothing/v1/chat/completions", not_found)
    app.router.add_post("/locked/v1/chat/completions", refused)
    return app


@contextmanager
def endpoints() -> Iterator[str]:
    """The endpoints' server, on a loop of its own in a thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(_endpoints())
    port = free_port()
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


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
