"""A scripted model server for the whole session, and backends with short timeouts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from assistantd.llm import OpenAICompatibleBackend
from assistantd.scripted_model.testing import ScriptedModelClient, running_scripted_model


@pytest.fixture(scope="session")
def scripted_url() -> Iterator[str]:
    with running_scripted_model(models=("alpha", "beta")) as base_url:
        yield base_url


@pytest.fixture
async def scripted(scripted_url: str) -> AsyncIterator[ScriptedModelClient]:
    async with ScriptedModelClient(scripted_url) as client:
        yield client


@pytest.fixture
def model() -> str:
    """A model name of this test's own, so scripted steps never leak between tests."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def backend(scripted_url: str) -> AsyncIterator[OpenAICompatibleBackend]:
    backend = OpenAICompatibleBackend(
        scripted_url,
        "sk-test",
        timeout_seconds=2.0,
        connect_timeout_seconds=1.0,
        max_retries=2,
        backoff_seconds=0.01,
    )
    yield backend
    await backend.aclose()
