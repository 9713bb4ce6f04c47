"""Projects (``organization.project``): the tenants. A project's objects are visible to every
live key of the project; archiving it stops all its keys (401) and it takes no new ones.

A new project's tenant is its own id. Two kinds of project own older tenants: ``proj_default``
(made by migration 0011) owns ``default``, what was made before any key was configured; each key
of ``ASSISTANTD_API_KEYS`` has a project owning the tenant that key had (``env_project``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistantd import clock
from assistantd.errors import InvalidRequest, NotFound
from assistantd.ids import new_id
from assistantd.store import projects as store
from assistantd.store.database import Database
from assistantd.store.documents import Page
from assistantd.store.driver_sql import execute
from assistantd.store.sessions import AsyncSession

KIND = "project"
DEFAULT_PROJECT = "proj_default"


@dataclass(frozen=True)
class ListRequest:
    limit: int = 20
    after: str | None = None


def to_wire(row: tuple[Any, ...]) -> dict[str, Any]:
    project_id, _tenant, name, created_at, archived_at, *_seq = row
    return {
        "id": project_id,
        "object": "organization.project",
        "name": name,
        "created_at": created_at,
        "archived_at": archived_at,
        "status": "active" if archived_at is None else "archived",
    }


async def create(db: Database, name: str) -> dict[str, Any]:
    project_id = new_id("proj_")
    row = (project_id, project_id, name, clock.now(), None)
    async with db.write(orm=False) as session:
        await execute(session, store.INSERT_PROJECT, _params(row))
    return to_wire(row)


def env_project(tenant: str, masked_key: str) -> tuple[str, str, str, int, None]:
    """The project row of one ``ASSISTANTD_API_KEYS`` key whose tenant is ``tenant``."""
    return (f"proj_{tenant[:24]}", tenant, f"ASSISTANTD_API_KEYS {masked_key}", clock.now(), None)


async def ensure(db: Database, rows: list[tuple[str, str, str, int, None]]) -> None:
    async with db.write(orm=False) as session:
        for row in rows:
            await execute(session, store.ENSURE_PROJECT, _params(row))


async def row(db: Database, project_id: str) -> tuple[Any, ...]:
    found = await db.read_row(store.PROJECT, {"id": project_id})
    if found is None:
        raise NotFound.object(KIND, project_id)
    return found


async def retrieve(db: Database, project_id: str) -> dict[str, Any]:
    return to_wire(await row(db, project_id))


async def lock_active(session: AsyncSession, project_id: str) -> tuple[Any, ...]:
    """The project, locked for the caller's transaction; refused if archived."""
    found = await store.one(session, store.LOCK_PROJECT, {"id": project_id})
    if found is None:
        raise NotFound.object(KIND, project_id)
    if found[4] is not None:
        raise InvalidRequest(f"Project {project_id} is archived.")
    return found


async def rename(db: Database, project_id: str, name: str) -> dict[str, Any]:
    async with db.write(orm=False) as session:
        found = await lock_active(session, project_id)
        await execute(session, store.RENAME_PROJECT, {"id": project_id, "name": name})
    return to_wire((*found[:2], name, *found[3:]))


async def archive(db: Database, project_id: str) -> dict[str, Any]:
    async with db.write(orm=False) as session:
        found = await store.one(session, store.LOCK_PROJECT, {"id": project_id})
        if found is None:
            raise NotFound.object(KIND, project_id)
        if found[4] is None:
            now = clock.now()
            await execute(session, store.ARCHIVE_PROJECT, {"id": project_id, "now": now})
            await store.bump_generation(session)
            found = (*found[:4], now)
    return to_wire(found)


async def list_page(db: Database, request: ListRequest, include_archived: bool) -> Page:
    cursor = None
    if request.after is not None:
        after = await db.read_row(store.PROJECT, {"id": request.after})
        if after is None:
            raise InvalidRequest(f"No project found with id '{request.after}'.", param="after")
        cursor = after[-1]
    params = {"archived": 1 if include_archived else 0}
    rows = await store.page(
        db, store.PROJECTS_FIRST, store.PROJECTS_AFTER, params, cursor, request.limit
    )
    return Page([to_wire(r) for r in rows[: request.limit]], len(rows) > request.limit)


def _params(row: tuple[Any, ...]) -> dict[str, Any]:
    project_id, tenant, name, created_at, *_ = row
    return {"id": project_id, "tenant": tenant, "name": name, "created_at": created_at}
