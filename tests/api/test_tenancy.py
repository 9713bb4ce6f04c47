"""``ASSISTANTD_API_KEYS``: unknown keys get 401; each key is its own tenant and can't see the
others' objects through any endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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


def test_another_tenants_or_unknown_ids_in_tool_resources_are_404(
    keyed_server: str, contract_log: ContractLog
) -> None:
    one = sdk_client(keyed_server, contract_log, api_key=KEYS[0])
    two = sdk_client(keyed_server, contract_log, api_key=KEYS[1])
    theirs_file = one.files.create(file=("a.txt", b"one's notes"), purpose="assistants").id
    theirs_store = one.vector_stores.create(name="one's").id
    mine_file = two.files.create(file=("b.txt", b"two's notes"), purpose="assistants").id
    mine_store = two.vector_stores.create(name="two's").id
    assistant = two.beta.assistants.create(model="scripted")
    thread = two.beta.threads.create()
    before = (two.beta.assistants.retrieve(assistant.id), two.beta.threads.retrieve(thread.id))

    def uses(file_id: str, store_id: str) -> dict[str, Any]:
        return {
            "code_interpreter": {"file_ids": [mine_file, file_id]},
            "file_search": {"vector_store_ids": [store_id]},
        }

    def attaching(file_id: str) -> dict[str, Any]:
        return {
            "role": "user",
            "content": "see the file",
            "attachments": [{"file_id": file_id, "tools": [{"type": "code_interpreter"}]}],
        }

    def calls(file_id: str, store_id: str) -> list[tuple[Callable[[], object], str]]:
        resources = uses(file_id, store_id)
        return [
            (lambda: two.beta.assistants.create(model="scripted", tool_resources=resources), ""),
            (lambda: two.beta.assistants.update(assistant.id, tool_resources=resources), ""),
            (lambda: two.beta.threads.create(tool_resources=resources), ""),
            (lambda: two.beta.threads.update(thread.id, tool_resources=resources), ""),
            (
                lambda: two.beta.threads.create_and_run(
                    assistant_id=assistant.id, thread={"tool_resources": resources}
                ),
                "thread.",
            ),
            (
                lambda: two.beta.threads.create_and_run(
                    assistant_id=assistant.id, tool_resources=resources
                ),
                "",
            ),
        ]

    for file_id, store_id in ((theirs_file, mine_store), (mine_file, theirs_store)):
        for call, prefix in calls(file_id, store_id):
            with pytest.raises(openai.NotFoundError) as raised:
                call()
            error = raised.value.body
            if file_id == theirs_file:
                assert error["message"] == f"No file found with id '{theirs_file}'."
                assert error["param"] == f"{prefix}tool_resources.code_interpreter.file_ids[1]"
            else:
                assert error["message"] == f"No vector store found with id '{theirs_store}'."
                assert error["param"] == f"{prefix}tool_resources.file_search.vector_store_ids[0]"
    for file_id in (theirs_file, "file-made-up"):
        message = attaching(file_id)
        attempts = [
            lambda m=message: two.beta.threads.messages.create(thread.id, **m),
            lambda m=message: two.beta.threads.create(messages=[m]),
        ]
        for attempt in attempts:
            with pytest.raises(openai.NotFoundError) as raised:
                attempt()
            assert raised.value.body["message"] == f"No file found with id '{file_id}'."
            assert raised.value.body["param"].endswith("attachments[0].file_id")
    with pytest.raises(openai.NotFoundError):
        two.beta.assistants.create(
            model="scripted", tool_resources={"file_search": {"vector_store_ids": ["vs_made_up"]}}
        )

    # Nothing was written: two's objects are as they were, one's are untouched.
    assert [a.id for a in two.beta.assistants.list()] == [assistant.id]
    after = (two.beta.assistants.retrieve(assistant.id), two.beta.threads.retrieve(thread.id))
    assert after == before
    assert two.beta.threads.messages.list(thread.id).data == []
    assert one.vector_stores.retrieve(theirs_store).file_counts.total == 0
    # and two's own ids are taken and echoed
    mine = two.beta.assistants.update(assistant.id, tool_resources=uses(mine_file, mine_store))
    assert mine.tool_resources.code_interpreter.file_ids == [mine_file, mine_file]
    assert mine.tool_resources.file_search.vector_store_ids == [mine_store]
    two.beta.threads.messages.create(thread.id, **attaching(mine_file))


def _thread_and_run(http: httpx.Client, assistant_id: str) -> dict[str, Any]:
    thread = {"messages": [{"role": "user", "content": "hi"}]}
    response = http.post("/threads/runs", json={"assistant_id": assistant_id, "thread": thread})
    assert response.status_code == 200, response.text
    return response.json()


def _keyed_http(base: str, key: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}", "OpenAI-Beta": "assistants=v2"}
    return httpx.Client(base_url=f"{base}/v1", headers=headers, timeout=30)


def test_the_project_runs_list_is_the_tenants_own_newest_first(keyed_server: str) -> None:
    """``GET /v1/runs`` (beyond OpenAI): a tenant's runs across all its threads."""
    with _keyed_http(keyed_server, KEYS[0]) as one, _keyed_http(keyed_server, KEYS[1]) as two:
        mine = one.post("/assistants", json={"model": "scripted"}).json()["id"]
        theirs = two.post("/assistants", json={"model": "scripted"}).json()["id"]
        runs = [_thread_and_run(one, mine)["id"] for _ in range(3)]
        foreign = _thread_and_run(two, theirs)["id"]

        listed = one.get("/runs", params={"limit": 100}).json()
        assert listed["object"] == "list"
        assert [r["id"] for r in listed["data"][:3]] == runs[::-1]
        assert len({r["thread_id"] for r in listed["data"][:3]}) == 3
        assert all(r["object"] == "thread.run" and r["status"] for r in listed["data"])
        assert foreign not in [r["id"] for r in listed["data"]]

        page = one.get("/runs", params={"limit": 2}).json()
        assert [r["id"] for r in page["data"]] == [runs[2], runs[1]]
        assert page["has_more"] is True and page["last_id"] == runs[1]
        rest = one.get("/runs", params={"limit": 1, "after": page["last_id"]}).json()
        assert [r["id"] for r in rest["data"]] == [runs[0]]

        assert one.get("/runs", params={"after": foreign}).status_code == 400
        assert two.get("/runs").json()["data"][0]["id"] == foreign
        assert mine not in str(two.get("/runs", params={"limit": 100}).json())
        assert httpx.get(f"{keyed_server}/v1/runs").status_code == 401
