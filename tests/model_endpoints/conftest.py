"""A server with projects (the admin key set) whose default endpoint is the scripted model,
plus a route that sends its name upstream under another: the same client and key the
Assistants calls use, pointed at ``/v1/chat/completions`` and ``/v1/embeddings``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import openai
import pytest

from tests.conftest import make_settings
from tests.harness.admin import ADMIN_KEY, AdminClient
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.runs.conftest import model, scripted

__all__ = ["model", "scripted"]


@dataclass(frozen=True)
class KeyedServer:
    base: str
    alias: str  # a routed model name
    upstream: str  # the name the route sends upstream
    project: str
    key: str  # a key of ``project``


@pytest.fixture(scope="module")
def keyed_server(
    backend: str, scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KeyedServer]:
    alias, upstream = f"alias-{uuid.uuid4().hex[:8]}", f"vendor/upstream-{uuid.uuid4().hex[:8]}"
    routes = {alias: {"base_url": scripted_model_url, "model": upstream}}
    data_dir = tmp_path_factory.mktemp(f"model-endpoints-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(
            data_dir, url, admin_key=ADMIN_KEY, llm_base_url=scripted_model_url,
            model_routes=routes, auth_cache_seconds=0.2,
        )  # fmt: skip
        with running_server(settings) as base:
            project, key = AdminClient(base).project_key("Model endpoints")
            yield KeyedServer(base, alias, upstream, project, key)


@pytest.fixture
def project_client(keyed_server: KeyedServer, contract_log: ContractLog) -> openai.OpenAI:
    return sdk_client(keyed_server.base, contract_log, api_key=keyed_server.key)


@pytest.fixture
def fresh_model() -> str:
    return f"model-{uuid.uuid4().hex[:10]}"
