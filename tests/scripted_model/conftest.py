"""One scripted model server for these tests, reached through the official OpenAI SDK."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import openai
import pytest

from assistantd.scripted_model.testing import ScriptedModelClient, running_scripted_model


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    with running_scripted_model(reply_words=0) as base_url:
        yield base_url


@pytest.fixture
async def sdk(server_url: str) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=server_url, api_key="sk-test", max_retries=0)
    yield client
    await client.close()


@pytest.fixture
async def scripted(server_url: str) -> AsyncIterator[ScriptedModelClient]:
    async with ScriptedModelClient(server_url) as client:
        yield client


@pytest.fixture
def model() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
