"""Projects, service-account keys and the admin key (``ASSISTANTD_ADMIN_KEY``) on one server:
the Administration API's shapes, a project as the tenant every key of it shares, key rotation,
archiving, the separation of admin and project keys, and the data of ``ASSISTANTD_API_KEYS`` and
of tenant ``default`` kept when projects arrive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import make_settings
from tests.harness.admin import ADMIN_KEY as ADMIN
from tests.harness.admin import AdminClient as Admin
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.runs.conftest import wait_for


@pytest.fixture(scope="module")
def admin_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp(f"projects-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(data_dir, url, admin_key=ADMIN, auth_cache_seconds=0.2)
        with running_server(settings) as base:
            yield base


def test_project_and_service_account_shapes(admin_server: str) -> None:
    admin = Admin(admin_server)
    project = admin.project("Shapes")
    assert project["object"] == "organization.project" and project["id"].startswith("proj_")
    assert (project["name"], project["status"], project["archived_at"]) == (
        "Shapes",
        "active",
        None,
    )
    assert admin.call("GET", f"/projects/{project['id']}") == project

    account = admin.service_account(project["id"], "Production App")
    key = account.pop("api_key")
    assert account["object"] == "organization.project.service_account"
    assert account["name"] == "Production App" and account["id"].startswith("svc_acct_")
    assert key["object"] == "organization.project.service_account.api_key"
    assert key["id"].startswith("key_") and key["value"].startswith("sk-")

    listed = admin.call("GET", f"/projects/{project['id']}/api_keys")
    assert listed["object"] == "list" and [k["id"] for k in listed["data"]] == [key["id"]]
    shown = listed["data"][0]
    assert shown["object"] == "organization.project.api_key"
    assert key["value"] not in str(listed) and shown["redacted_value"].endswith(key["value"][-4:])
    assert shown["owner"] == {"type": "service_account", "service_account": account}
    assert admin.call("GET", f"/projects/{project['id']}/api_keys/{key['id']}") == shown
    accounts = admin.call("GET", f"/projects/{project['id']}/service_accounts")
    assert accounts["data"] == [account] and accounts["first_id"] == account["id"]
    assert (
        admin.call("GET", f"/projects/{project['id']}/service_accounts/{account['id']}") == account
    )

    renamed = admin.call("POST", f"/projects/{project['id']}", json={"name": "Renamed"})
    assert renamed["name"] == "Renamed"
    admin.call("GET", "/projects/proj_nope", status=404)
    admin.call("POST", "/projects", status=400, json={})


def test_projects_page_with_after_and_limit(admin_server: str) -> None:
    admin = Admin(admin_server)
    made = [admin.project(f"page {n}")["id"] for n in range(3)]
    seen: list[str] = []
    after = None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = admin.call("GET", "/projects", params=params)
        seen += [p["id"] for p in page["data"]]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert seen[-3:] == made and len(seen) == len(set(seen))


def test_every_key_of_a_project_sees_its_objects_and_a_deleted_key_stops(
    admin_server: str, contract_log: ContractLog
) -> None:
    admin = Admin(admin_server)
    project = admin.project("Rotation")["id"]
    first = admin.service_account(project, "first")["api_key"]
    one = sdk_client(admin_server, contract_log, api_key=first["value"])
    assistant = one.beta.assistants.create(model="scripted", name="kept")

    second = admin.service_account(project, "second")["api_key"]
    two = sdk_client(admin_server, contract_log, api_key=second["value"])
    assert two.beta.assistants.retrieve(assistant.id).name == "kept"
    deleted = admin.call("DELETE", f"/projects/{project}/api_keys/{first['id']}")
    assert deleted == {
        "object": "organization.project.api_key.deleted",
        "id": first["id"],
        "deleted": True,
    }

    def first_key_status() -> int:
        try:
            one.beta.assistants.list()
        except openai.AuthenticationError:
            return 401
        return 200

    assert wait_for(first_key_status, lambda status: status == 401) == 401
    assert two.beta.assistants.retrieve(assistant.id).name == "kept"

    # Another project's key sees none of it.
    other = admin.service_account(admin.project("Other")["id"])["api_key"]["value"]
    with pytest.raises(openai.NotFoundError):
        sdk_client(admin_server, contract_log, api_key=other).beta.assistants.retrieve(assistant.id)


def test_deleting_a_service_account_deletes_its_key(admin_server: str) -> None:
    admin = Admin(admin_server)
    project = admin.project("Delete account")["id"]
    account = admin.service_account(project)
    gone = admin.call("DELETE", f"/projects/{project}/service_accounts/{account['id']}")
    assert gone == {
        "object": "organization.project.service_account.deleted",
        "id": account["id"],
        "deleted": True,
    }
    assert admin.call("GET", f"/projects/{project}/api_keys")["data"] == []
    headers = {"Authorization": f"Bearer {account['api_key']['value']}"}
    status = lambda: httpx.get(f"{admin_server}/v1/assistants", headers=headers).status_code  # noqa: E731
    assert wait_for(status, lambda s: s == 401) == 401


def test_archived_project_keys_stop_and_it_takes_no_new_ones(admin_server: str) -> None:
    admin = Admin(admin_server)
    project = admin.project("Archived")["id"]
    key = admin.service_account(project)["api_key"]["value"]
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{admin_server}/v1/assistants", headers=headers).status_code == 200
    archived = admin.call("POST", f"/projects/{project}/archive")
    assert archived["status"] == "archived" and archived["archived_at"] is not None

    status = lambda: httpx.get(f"{admin_server}/v1/assistants", headers=headers)  # noqa: E731
    refused = wait_for(status, lambda r: r.status_code == 401)
    assert refused.json()["error"]["code"] == "invalid_api_key"
    error = admin.call(
        "POST", f"/projects/{project}/service_accounts", status=400, json={"name": "x"}
    )
    assert error["error"]["type"] == "invalid_request_error"
    assert project not in [
        p["id"] for p in admin.call("GET", "/projects", params={"limit": 100})["data"]
    ]
    listed = admin.call("GET", "/projects", params={"limit": 100, "include_archived": "true"})
    assert project in [p["id"] for p in listed["data"]]


def test_admin_key_opens_only_the_admin_api_and_project_keys_only_the_rest(
    admin_server: str, contract_log: ContractLog
) -> None:
    admin = Admin(admin_server)
    key = admin.service_account(admin.project("Separation")["id"])["api_key"]["value"]
    # As OpenAI answers a key without the route's scope: 401, no code, the scope named.
    with pytest.raises(openai.AuthenticationError) as raised:
        sdk_client(admin_server, contract_log, api_key=ADMIN).beta.assistants.list()
    assert raised.value.code is None
    assert "insufficient permissions" in raised.value.message
    assert "Missing scopes: api.assistants.read" in raised.value.message
    for path, scope in (
        ("/v1/threads/thread_x/runs/run_x", "api.threads.read"),
        ("/v1/files", "api.files.read"),
        ("/v1/vector_stores", "api.vector_stores.read"),
    ):
        response = httpx.get(f"{admin_server}{path}", headers={"Authorization": f"Bearer {ADMIN}"})
        assert response.status_code == 401, path
        assert f"Missing scopes: {scope}." in response.json()["error"]["message"]
    written = httpx.post(
        f"{admin_server}/v1/assistants",
        headers={"Authorization": f"Bearer {ADMIN}"},
        json={"model": "gpt-4o"},
    )
    assert written.status_code == 401
    assert "Missing scopes: api.assistants.write." in written.json()["error"]["message"]
    for method, scope in (("GET", "api.management.read"), ("POST", "api.management.write")):
        body = {"json": {"name": "x"}} if method == "POST" else {}
        refused = Admin(admin_server, key).call(method, "/projects", status=401, **body)
        assert refused["error"]["type"] == "invalid_request_error"
        assert refused["error"]["code"] is None
        assert f"Missing scopes: {scope}." in refused["error"]["message"]
    # An unknown key is still an incorrect one, on both sides.
    unknown = Admin(admin_server, "sk-admin-for-tesTs").call("GET", "/projects", status=401)
    assert unknown["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError) as raised:
        sdk_client(admin_server, contract_log, api_key="sk-unknown-key1").beta.assistants.list()
    assert raised.value.code == "invalid_api_key"
    assert httpx.get(f"{admin_server}/v1/organization/projects").status_code == 401


def test_keys_are_stored_only_as_hashes(backend: str, tmp_path: Path) -> None:
    import sqlite3

    if backend != "sqlite":
        pytest.skip("reads the SQLite file itself")
    settings = make_settings(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}", admin_key=ADMIN
    )
    with running_server(settings) as base:
        value = Admin(base).service_account(Admin(base).project()["id"])["api_key"]["value"]
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("db.sqlite3*"))
    assert value.encode() not in stored
    with sqlite3.connect(tmp_path / "db.sqlite3") as connection:
        (hashed,) = connection.execute("SELECT key_hash FROM api_keys").fetchone()
    import hashlib

    assert hashed == hashlib.sha256(value.encode()).hexdigest()


def test_api_keys_and_default_tenant_data_stay_reachable_with_projects(
    backend: str, tmp_path: Path, contract_log: ContractLog
) -> None:
    """Objects made before projects existed: with ``ASSISTANTD_API_KEYS`` (tenant per key) and
    with no key at all (tenant ``default``), reachable after the admin key is set."""
    with fresh_database(backend, tmp_path) as url:
        with running_server(make_settings(tmp_path, url)) as base:
            shared = sdk_client(base, contract_log).beta.assistants.create(model="scripted")
        with running_server(make_settings(tmp_path, url, api_keys="sk-legacy-one")) as base:
            legacy = sdk_client(base, contract_log, api_key="sk-legacy-one")
            owned = legacy.beta.assistants.create(model="scripted")

        settings = make_settings(tmp_path, url, api_keys="sk-legacy-one", admin_key=ADMIN)
        with running_server(settings) as base:
            legacy = sdk_client(base, contract_log, api_key="sk-legacy-one")
            assert legacy.beta.assistants.retrieve(owned.id).id == owned.id
            with pytest.raises(openai.NotFoundError):
                legacy.beta.assistants.retrieve(shared.id)
            admin = Admin(base)
            names = [p["name"] for p in admin.call("GET", "/projects")["data"]]
            assert "Default project" in names and any("ASSISTANTD_API_KEYS" in n for n in names)
            key = admin.service_account("proj_default")["api_key"]["value"]
            default = sdk_client(base, contract_log, api_key=key)
            assert default.beta.assistants.retrieve(shared.id).id == shared.id
            with pytest.raises(openai.AuthenticationError):
                sdk_client(base, contract_log, api_key="sk-unknown-key").beta.assistants.list()

            # The key's project is a project like any other: archived, the key stops.
            listed = admin.call("GET", "/projects")["data"]
            (env_project,) = [p["id"] for p in listed if "ASSISTANTD_API_KEYS" in p["name"]]
            admin.call("POST", f"/projects/{env_project}/archive")
            with pytest.raises(openai.AuthenticationError):
                # Polled until it raises (within the key cache's check interval).
                wait_for(legacy.beta.assistants.list, lambda _: False, seconds=10)
