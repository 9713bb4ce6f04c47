"""Fixtures: a live server per database backend, the SDK pointed at it, and the contract check."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from assistantd.config import Settings
from assistantd.scripted_model.testing import running_scripted_model
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import BACKENDS, fresh_database, postgres_unavailable_reason
from tests.harness.server import running_server


@pytest.fixture(scope="session")
def postgres_skip_reason() -> str | None:
    return postgres_unavailable_reason()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, postgres_skip_reason: str | None) -> str:
    if request.param == "postgresql" and postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    return request.param


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url, **overrides)


@pytest.fixture(scope="session")
def scripted_model_url() -> Iterator[str]:
    """The project's scripted model server (``…/v1``), standing in for an LLM over real HTTP."""
    with running_scripted_model() as base_url:
        yield base_url


@pytest.fixture(scope="session")
def server(
    backend: str, scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A server on ``backend`` whose default model endpoint is the scripted model; shared by the
    session. Yields its base URL (without ``/v1``)."""
    data_dir = tmp_path_factory.mktemp(f"data-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(data_dir, url, llm_base_url=scripted_model_url)
        with running_server(settings) as base:
            yield base


@pytest.fixture(scope="session")
def contract_log() -> ContractLog:
    return ContractLog()


@pytest.fixture(autouse=True)
def _wire_contract(contract_log: ContractLog) -> Iterator[None]:
    """Fail any test during which a response broke the spec."""
    before = len(contract_log.violations)
    yield
    new = contract_log.violations[before:]
    assert not new, "responses broke the OpenAPI contract:\n" + "\n".join(new)


@pytest.fixture
def client(server: str, contract_log: ContractLog) -> openai.OpenAI:
    return sdk_client(server, contract_log)


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server}/v1", timeout=30) as raw:
        yield raw
