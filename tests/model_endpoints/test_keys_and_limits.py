"""The model endpoints take the keys and limits of the Assistants API: a project's key works
(every project's), none or a wrong one is 401, the admin key opens nothing here, and a project's
rate limit for the model is 429 with ``x-ratelimit-*`` headers."""

from __future__ import annotations

import time

import openai
import pytest

from tests.api.test_rate_limits import start_of_a_minute
from tests.harness.admin import ADMIN_KEY, AdminClient
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.model_endpoints.conftest import KeyedServer
from tests.runs.conftest import Scripted

HELLO = [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize("key", [None, "sk-wrong-key-1234", ADMIN_KEY])
def test_no_key_a_wrong_one_or_the_admin_key_is_401(
    keyed_server: KeyedServer, contract_log: ContractLog, model: str, key: str | None
) -> None:
    client = sdk_client(keyed_server.base, contract_log, api_key=key or "unused")
    if key is None:
        client = client.with_options(default_headers={"Authorization": ""})
    with pytest.raises(openai.AuthenticationError) as refused:
        client.chat.completions.create(model=model, messages=HELLO)
    assert refused.value.response.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.AuthenticationError):
        client.embeddings.create(model=model, input="hello")
    # The same as on the Assistants routes.
    with pytest.raises(openai.AuthenticationError):
        client.beta.assistants.list()


def test_every_projects_key_works_with_the_same_client_as_assistants(
    keyed_server: KeyedServer, contract_log: ContractLog, scripted: Scripted, model: str
) -> None:
    _, other_key = AdminClient(keyed_server.base).project_key("Another")
    for key in (keyed_server.key, other_key):
        client = sdk_client(keyed_server.base, contract_log, api_key=key)
        assistant = client.beta.assistants.create(model=model)
        scripted.script(model, {"text": f"For {key[-4:]}"})
        answer = client.chat.completions.create(model=assistant.model, messages=HELLO)
        assert answer.choices[0].message.content == f"For {key[-4:]}"
        assert len(client.embeddings.create(model=model, input="x").data[0].embedding) > 0


def _limited_client(
    keyed_server: KeyedServer, contract_log: ContractLog, model: str, **limit: int
) -> openai.OpenAI:
    """The SDK on the key of a new project with ``limit`` on ``model``."""
    admin = AdminClient(keyed_server.base)
    project, key = admin.project_key("Limited")
    admin.limit(project, model, **limit)
    client = sdk_client(keyed_server.base, contract_log, api_key=key)
    time.sleep(0.3)  # the key cache's interval (auth_cache_seconds)
    return client


def test_a_projects_request_limit_is_429_with_headers(
    keyed_server: KeyedServer, contract_log: ContractLog, scripted: Scripted, model: str
) -> None:
    client = _limited_client(keyed_server, contract_log, model, max_requests_per_1_minute=2)

    start_of_a_minute()
    first = client.chat.completions.with_raw_response.create(model=model, messages=HELLO)
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    with client.chat.completions.with_streaming_response.create(
        model=model, messages=HELLO, stream=True
    ) as streamed:
        assert streamed.headers["x-ratelimit-remaining-requests"] == "0"
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model=model, messages=HELLO)
    response = refused.value.response
    error = response.json()["error"]
    assert (error["code"], error["type"]) == ("rate_limit_exceeded", "requests")
    assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert response.headers["x-ratelimit-reset-requests"].endswith("s")
    with pytest.raises(openai.RateLimitError):
        client.embeddings.create(model=model, input="hello")
    # Counted with the project's runs of the model: one request budget for both.
    assistant = client.beta.assistants.create(model=model)
    with pytest.raises(openai.RateLimitError):
        client.beta.threads.create_and_run(assistant_id=assistant.id)
    # Another model is not limited.
    assert client.chat.completions.create(model=f"{model}-b", messages=HELLO).choices


def test_a_projects_token_limit_counts_completions_and_embeddings(
    keyed_server: KeyedServer, contract_log: ContractLog, scripted: Scripted, model: str
) -> None:
    client = _limited_client(keyed_server, contract_log, model, max_tokens_per_1_minute=30)

    start_of_a_minute()
    scripted.script(
        model, {"text": "Short.", "usage": {"prompt_tokens": 10, "completion_tokens": 2}}
    )
    first = client.chat.completions.with_raw_response.create(model=model, messages=HELLO)
    assert first.headers["x-ratelimit-remaining-tokens"] == "30"
    # A stream's tokens count too (its usage chunk asked for by assistantd, not shown).
    scripted.script(
        model, {"text": "Streamed.", "usage": {"prompt_tokens": 10, "completion_tokens": 3}}
    )
    with client.chat.completions.with_streaming_response.create(
        model=model, messages=HELLO, stream=True
    ) as streamed:
        assert streamed.headers["x-ratelimit-remaining-tokens"] == "18"
        list(streamed.iter_lines())
    # 25 used: embeddings' tokens (of the scripted model's counting) pass the limit.
    client.embeddings.create(model=model, input="many words " * 5)
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model=model, messages=HELLO)
    response = refused.value.response
    assert response.json()["error"]["type"] == "tokens"
    assert response.headers["x-ratelimit-remaining-tokens"] == "0"
