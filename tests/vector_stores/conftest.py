"""A server whose embedder is the scripted model's deterministic ``/v1/embeddings`` (fast and
offline), shared by this directory's tests in place of the default server.

These tests run on a third backend too: ``pgvector``, a PostgreSQL with the extension, where the
server uses the shared PostgreSQL chunk index (``postgresql`` has none: the local SQLite one)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest

from tests.conftest import make_settings
from tests.harness.databases import BACKENDS, fresh_database, unavailable_reason
from tests.harness.server import running_server


def embedding_settings(scripted_model_url: str) -> dict[str, Any]:
    return {
        "llm_base_url": scripted_model_url,
        "embedding_backend": "openai",
        "embedding_base_url": scripted_model_url,
        "embedding_model": "text-embedding-3-small",
        "embedding_dimensions": 256,
    }


@pytest.fixture(scope="session", params=(*BACKENDS, "pgvector"))
def backend(request: pytest.FixtureRequest) -> str:
    reason = unavailable_reason(request.param)
    if reason:
        pytest.skip(reason)
    return request.param


@pytest.fixture(scope="session")
def server(
    backend: str, scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp(f"vector-stores-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(data_dir, url, **embedding_settings(scripted_model_url))
        with running_server(settings) as base:
            yield base


def wait_until(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Poll ``check`` until it holds (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def upload(client: openai.OpenAI) -> Callable[[str, bytes | str], str]:
    def make(name: str, content: bytes | str) -> str:
        data = content.encode() if isinstance(content, str) else content
        return client.files.create(file=(name, data), purpose="assistants").id

    return make
