"""Fixtures for run tests: a scripted-model client, unique model names, an assistant factory,
and extra servers with settings of their own (short expiry, fast failures, small windows)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from assistantd.scripted_model.testing import ScriptedModelClient
from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server


class Scripted:
    """Synchronous access to the scripted model's ``/_script`` and ``/_requests``."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url

    def _call(self, method: str, *args: Any, **options: Any) -> Any:
        async def call() -> Any:
            async with ScriptedModelClient(self._base_url) as client:
                return await getattr(client, method)(*args, **options)

        return asyncio.run(call()) if not _loop_running() else _in_thread(call)

    def script(
        self,
        model: str,
        *steps: dict[str, Any],
        dialect: str | None = None,
        supports_tools: bool | None = None,
    ) -> None:
        """Queue ``steps`` for ``model`` (and make it speak ``dialect``, or refuse tools, if
        given)."""
        self._call("script", model, *steps, dialect=dialect, supports_tools=supports_tools)

    def requests(self, model: str) -> list[dict[str, Any]]:
        return self._call("requests", model)


def script_two_weather_calls(scripted: Scripted, model: str) -> None:
    """The model calls get_weather for Paris and Rome at once, then answers with both."""
    scripted.script(
        model,
        {
            "tool_calls": [
                {"id": "call_paris", "name": "get_weather", "arguments": {"city": "Paris"}},
                {"id": "call_rome", "name": "get_weather", "arguments": {"city": "Rome"}},
            ]
        },
        {"text": "Paris is sunny, Rome is rainy."},
    )


def weather_outputs(ids: tuple[str, str] = ("call_paris", "call_rome")) -> list[dict[str, str]]:
    """The outputs answering ``script_two_weather_calls``' calls: Paris sunny, Rome rainy."""
    return [
        {"tool_call_id": ids[0], "output": "sunny"},
        {"tool_call_id": ids[1], "output": "rainy"},
    ]


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _in_thread(factory: Callable[[], Any]) -> Any:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


@pytest.fixture(scope="session")
def scripted(scripted_model_url: str) -> Scripted:
    return Scripted(scripted_model_url)


@pytest.fixture
def model() -> str:
    """A model name no other test uses, so scripts and request logs don't mix."""
    return f"model-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def assistant(client: openai.OpenAI, model: str) -> Any:
    return client.beta.assistants.create(model=model, instructions="You are terse.")


@pytest.fixture
def thread(client: openai.OpenAI) -> Any:
    return client.beta.threads.create(messages=[{"role": "user", "content": "Hello?"}])


def other_server(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
    **overrides: Any,
) -> Iterator[openai.OpenAI]:
    data_dir: Path = tmp_path_factory.mktemp(f"runs-{backend}")
    with (
        fresh_database(backend, data_dir) as url,
        running_server(make_settings(data_dir, url, **overrides)) as base,
    ):
        yield sdk_client(base, contract_log)


@pytest.fixture(scope="session")
def fragile_client(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[openai.OpenAI]:
    """A server that gives up on the model quickly (no retries, 1 s read timeout) and expires
    runs waiting for tool outputs after 2 s."""
    yield from other_server(
        backend,
        tmp_path_factory,
        contract_log,
        llm_base_url=scripted_model_url,
        llm_max_retries=0,
        llm_timeout_seconds=1.0,
        run_expiry_seconds=2,
        run_sweep_interval_seconds=0.2,
    )


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], seconds: float = 20) -> Any:
    """Poll ``fetch`` until ``done`` holds (a deadline only to fail instead of hanging)."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting; last value: {value!r}")
        time.sleep(0.05)
