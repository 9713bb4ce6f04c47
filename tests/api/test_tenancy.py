"""``ASSISTANTD_API_KEYS``: unknown keys get 401; each key is its own tenant and can't see the
others' objects through any endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server

KEYS = ("sk-tenant-one", "sk-tenant-two")


@pytest.fixture(scope="module")
def keyed_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp(f"tenants-{backend}")
    with (
        fresh_database(backend, data_dir) as url,
        running_server(make_settings(data_dir, url, api_keys=",".join(KEYS))) as base,
    ):
        yield base


def test_missing_or_unknown_key_is_401(keyed_server: str, contract_log: ContractLog) -> None:
    for headers in ({}, {"Authorization": "Bearer sk-wrong-key-123"}, {"Authorization": "Basic x"}):
        response = httpx.get(f"{keyed_server}/v1/assistants", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.AuthenticationError):
        sdk_client(keyed_server, contract_log, api_key="sk-wrong-key-123").beta.assistants.list()


def test_tenants_cannot_see_each_other(keyed_server: str, contract_log: ContractLog) -> None:
    one = sdk_client(keyed_server, contract_log, api_key=KEYS[0])
    two = sdk_client(keyed_server, contract_log, api_key=KEYS[1])
    assistant = one.beta.assistants.create(model="scripted")
    thread = one.beta.threads.create(messages=[{"role": "user", "content": "secret"}])
    message = one.beta.threads.messages.list(thread.id).data[0]

    hidden = [
        lambda: two.beta.assistants.retrieve(assistant.id),
        lambda: two.beta.assistants.update(assistant.id, name="x"),
        lambda: two.beta.assistants.delete(assistant.id),
        lambda: two.beta.threads.retrieve(thread.id),
        lambda: two.beta.threads.update(thread.id, metadata={"a": "b"}),
        lambda: two.beta.threads.delete(thread.id),
        lambda: two.beta.threads.messages.list(thread.id),
        lambda: two.beta.threads.messages.create(thread.id, role="user", content="x"),
        lambda: two.beta.threads.messages.retrieve(message.id, thread_id=thread.id),
        lambda: two.beta.threads.messages.update(message.id, thread_id=thread.id, metadata={}),
        lambda: two.beta.threads.messages.delete(message.id, thread_id=thread.id),
    ]
    for call in hidden:
        with pytest.raises(openai.NotFoundError):
            call()
    assert assistant.id not in [a.id for a in two.beta.assistants.list()]
    with pytest.raises(openai.BadRequestError):  # another tenant's id is no cursor here
        two.beta.assistants.list(after=assistant.id)

    # and the owner still has everything, untouched
    assert one.beta.assistants.retrieve(assistant.id).name is None
    assert one.beta.threads.retrieve(thread.id).metadata == {}
    assert (
        one.beta.threads.messages.retrieve(message.id, thread_id=thread.id).content
        == message.content
    )
