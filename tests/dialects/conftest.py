"""A server whose default model endpoint is the scripted model, each test's model speaking one
backend's dialect (``speaking``); embeddings from the scripted model too, for file_search.

The dialects are about the model endpoint, not the database: one SQLite server serves them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import openai
import pytest

from assistantd.scripted_model.dialects import DIALECTS
from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.runs.conftest import Scripted
from tests.vector_stores.conftest import embedding_settings


@pytest.fixture(scope="session")
def dialects_server(
    scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("dialects")
    with fresh_database("sqlite", data_dir) as url:
        settings = make_settings(data_dir, url, **embedding_settings(scripted_model_url))
        with running_server(settings) as base:
            yield base


@pytest.fixture
def client(dialects_server: str, contract_log: ContractLog) -> openai.OpenAI:
    return sdk_client(dialects_server, contract_log)


@pytest.fixture(scope="session")
def scripted(scripted_model_url: str) -> Scripted:
    return Scripted(scripted_model_url)


@pytest.fixture(params=sorted(DIALECTS))
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def model(scripted: Scripted, dialect: str) -> str:
    """A model name of this test's own, speaking ``dialect``."""
    name = f"model-{dialect}-{uuid.uuid4().hex[:8]}"
    scripted.script(name, dialect=dialect)
    return name
