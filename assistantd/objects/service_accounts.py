"""Service accounts (``organization.project.service_account``) and the project API keys
(``organization.project.api_key``) they own.

Creating a service account makes its key and shows the key's value once, in the answer; only
its hash is kept. Rotating a key: create another service account, move clients to its key,
delete the old key (or account). The project's objects stay, since they belong to the project.
Deleting a key or an account reaches every process's key cache within its check interval
(``KeyCache``) through the generation counter bumped in the same transaction.
"""

from __future__ import annotations

from typing import Any

from assistantd import clock
from assistantd.errors import InvalidRequest, NotFound
from assistantd.ids import new_id
from assistantd.objects import key_values, projects
from assistantd.objects.projects import ListRequest
from assistantd.store import projects as store
from assistantd.store.database import Database
from assistantd.store.documents import Page
from assistantd.store.driver_sql import Statement, execute

ACCOUNT_KIND = "service account"
KEY_KIND = "API key"
MEMBER = "member"


def account_to_wire(row: tuple[Any, ...]) -> dict[str, Any]:
    account_id, _project_id, name, role, created_at, *_seq = row
    return {
        "object": "organization.project.service_account",
        "id": account_id,
        "name": name,
        "role": role,
        "created_at": created_at,
    }


def key_to_wire(row: tuple[Any, ...], account: tuple[Any, ...] | None) -> dict[str, Any]:
    key_id, _project_id, _account_id, redacted_value, name, created_at, last_used_at, _ = row
    owner: dict[str, Any] = {"type": "service_account"}
    if account is not None:
        owner["service_account"] = account_to_wire(account)
    return {
        "object": "organization.project.api_key",
        "redacted_value": redacted_value,
        "name": name,
        "created_at": created_at,
        "last_used_at": last_used_at,
        "id": key_id,
        "owner": owner,
    }


async def create_account(db: Database, project_id: str, name: str) -> dict[str, Any]:
    value, now = key_values.new_key(), clock.now()
    account = (new_id("svc_acct_"), project_id, name, MEMBER, now)
    key = {
        "id": new_id("key_"),
        "project_id": project_id,
        "service_account_id": account[0],
        "key_hash": key_values.digest(value),
        "redacted_value": key_values.redacted(value),
        "name": "Secret Key",
        "created_at": now,
    }
    async with db.write(orm=False) as session:
        await projects.lock_active(session, project_id)
        await execute(session, store.INSERT_ACCOUNT, _account_params(account))
        await execute(session, store.INSERT_KEY, key)
    api_key = {
        "object": "organization.project.service_account.api_key",
        "value": value,
        "name": key["name"],
        "created_at": now,
        "id": key["id"],
    }
    return {**account_to_wire(account), "api_key": api_key}


async def account(db: Database, project_id: str, account_id: str) -> tuple[Any, ...]:
    await projects.row(db, project_id)
    found = await db.read_row(store.ACCOUNT, {"id": account_id, "project_id": project_id})
    if found is None:
        raise NotFound.object(ACCOUNT_KIND, account_id)
    return found


async def delete_account(db: Database, project_id: str, account_id: str) -> dict[str, Any]:
    await account(db, project_id, account_id)
    async with db.write(orm=False) as session:
        await execute(session, store.DELETE_ACCOUNT_KEYS, {"account_id": account_id})
        await execute(session, store.DELETE_ACCOUNT, {"id": account_id})
        await store.bump_generation(session)
    kind = "organization.project.service_account.deleted"
    return {"object": kind, "id": account_id, "deleted": True}


async def key(db: Database, project_id: str, key_id: str) -> dict[str, Any]:
    await projects.row(db, project_id)
    found = await db.read_row(store.KEY, {"id": key_id, "project_id": project_id})
    if found is None:
        raise NotFound.object(KEY_KIND, key_id)
    return await _key_with_owner(db, found)


async def delete_key(db: Database, project_id: str, key_id: str) -> dict[str, Any]:
    await key(db, project_id, key_id)
    async with db.write(orm=False) as session:
        await execute(session, store.DELETE_KEY, {"id": key_id})
        await store.bump_generation(session)
    return {"object": "organization.project.api_key.deleted", "id": key_id, "deleted": True}


async def list_accounts(db: Database, project_id: str, request: ListRequest) -> Page:
    await projects.row(db, project_id)
    statements = (store.ACCOUNT, store.ACCOUNTS_FIRST, store.ACCOUNTS_AFTER)
    rows = await _page(db, project_id, request, *statements)
    return Page([account_to_wire(r) for r in rows[: request.limit]], len(rows) > request.limit)


async def list_keys(db: Database, project_id: str, request: ListRequest) -> Page:
    await projects.row(db, project_id)
    statements = (store.KEY, store.KEYS_FIRST, store.KEYS_AFTER)
    rows = await _page(db, project_id, request, *statements)
    data = [await _key_with_owner(db, r) for r in rows[: request.limit]]
    return Page(data, len(rows) > request.limit)


async def _page(
    db: Database,
    project_id: str,
    request: ListRequest,
    by_id: Statement,
    first: Statement,
    after: Statement,
) -> list[tuple[Any, ...]]:
    cursor = None
    if request.after is not None:
        found = await db.read_row(by_id, {"id": request.after, "project_id": project_id})
        if found is None:
            raise InvalidRequest(f"No object found with id '{request.after}'.", param="after")
        cursor = found[-1]  # its seq
    params = {"project_id": project_id}
    return await store.page(db, first, after, params, cursor, request.limit)


async def _key_with_owner(db: Database, row: tuple[Any, ...]) -> dict[str, Any]:
    owner = None
    if row[2] is not None:
        owner = await db.read_row(store.ACCOUNT, {"id": row[2], "project_id": row[1]})
    return key_to_wire(row, owner)


def _account_params(row: tuple[Any, ...]) -> dict[str, Any]:
    account_id, project_id, name, role, created_at = row
    return {
        "id": account_id,
        "project_id": project_id,
        "name": name,
        "role": role,
        "created_at": created_at,
    }
