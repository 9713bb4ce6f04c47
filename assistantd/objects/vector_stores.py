"""Vector stores: create, read, modify, delete, list, and the counts kept on each store.

``file_counts``, ``usage_bytes`` and ``status`` are recomputed from the store's file rows
whenever one of them changes (``refresh``), under the store's row lock, so they never drift.
``expired`` is decided when the store is read: a store past its ``expires_at`` reads as expired.
"""

from __future__ import annotations

from typing import Any

from assistantd.clock import now
from assistantd.errors import NotFound
from assistantd.ids import new_id
from assistantd.store import documents, vector_store_file_queries
from assistantd.store.documents import Page, PageRequest
from assistantd.store.file_tables import FileBatch, VectorStore, VectorStoreFile
from assistantd.store.sessions import AsyncSession
from assistantd.wire.vector_stores import CreateVectorStore, ExpiresAfter, ModifyVectorStore

KIND = "vector store"
FILE_STATUSES = ("in_progress", "completed", "failed", "cancelled")
SECONDS_PER_DAY = 86_400


def empty_counts() -> dict[str, int]:
    return {status: 0 for status in FILE_STATUSES} | {"total": 0}


async def create(session: AsyncSession, tenant: str, body: CreateVectorStore) -> dict[str, Any]:
    created_at = now()
    data: dict[str, Any] = {
        "id": new_id("vs_"),
        "object": "vector_store",
        "created_at": created_at,
        "name": body.name or "",
        "usage_bytes": 0,
        "file_counts": empty_counts(),
        "status": "completed",
        "last_active_at": created_at,
        "expires_at": None,
        "metadata": body.metadata or {},
    }
    _set_expiry(data, body.expires_after)
    await documents.add(
        session, VectorStore, id=data["id"], tenant=tenant, created_at=created_at, data=data
    )
    return data


async def get(session: AsyncSession, tenant: str, store_id: str) -> dict[str, Any]:
    return present((await _row(session, tenant, store_id)).data)


async def require(
    session: AsyncSession, tenant: str, store_id: str, param: str | None = None
) -> None:
    """Raise NotFound (naming ``param``) unless the store exists."""
    await _row(session, tenant, store_id, param=param)


async def modify(
    session: AsyncSession, tenant: str, store_id: str, body: ModifyVectorStore
) -> dict[str, Any]:
    row = await _row(session, tenant, store_id, lock=True)
    data = dict(row.data)
    given = body.given()
    if "name" in given:
        data["name"] = body.name or ""
    if "expires_after" in given:
        data.pop("expires_after", None)
        data["expires_at"] = None
        _set_expiry(data, body.expires_after)
    if body.metadata is not None:
        data["metadata"] = body.metadata
    documents.replace_data(row, data)
    return present(data)


async def touch(session: AsyncSession, tenant: str, store_id: str) -> dict[str, Any]:
    """Mark the store active now (a search), which also pushes back its expiry."""
    row = await _row(session, tenant, store_id, lock=True)
    data = dict(row.data)
    data["last_active_at"] = now()
    if "expires_after" in data:
        data["expires_at"] = (
            data["last_active_at"] + data["expires_after"]["days"] * SECONDS_PER_DAY
        )
    documents.replace_data(row, data)
    return present(data)


async def delete(session: AsyncSession, tenant: str, store_id: str) -> dict[str, Any]:
    row = await _row(session, tenant, store_id)
    await documents.remove_where(session, VectorStoreFile, tenant=tenant, vector_store_id=store_id)
    await documents.remove_where(session, FileBatch, tenant=tenant, vector_store_id=store_id)
    await documents.remove(session, row)
    return {"id": store_id, "object": "vector_store.deleted", "deleted": True}


async def list_page(session: AsyncSession, tenant: str, request: PageRequest) -> Page:
    page = await documents.page(session, VectorStore, tenant, request)
    return Page(data=[present(data) for data in page.data], has_more=page.has_more)


async def refresh(session: AsyncSession, tenant: str, store_id: str) -> None:
    """Recompute the store's counts, usage and status from its files."""
    row = await documents.fetch_for_update(session, VectorStore, tenant, store_id)
    if row is None:
        return
    counts = empty_counts()
    usage = 0
    for status, count, usage_bytes in await vector_store_file_queries.store_status_counts(
        session, tenant, store_id
    ):
        counts[status] = int(count)
        counts["total"] += int(count)
        if status == "completed":
            usage = int(usage_bytes or 0)
    data = dict(row.data)
    data["file_counts"] = counts
    data["usage_bytes"] = usage
    data["status"] = "in_progress" if counts["in_progress"] else "completed"
    documents.replace_data(row, data)


def present(data: dict[str, Any]) -> dict[str, Any]:
    """The store as clients see it now: ``expired`` once past its ``expires_at``."""
    expires_at = data.get("expires_at")
    if expires_at is not None and expires_at <= now():
        return data | {"status": "expired"}
    return data


def is_expired(data: dict[str, Any]) -> bool:
    return present(data)["status"] == "expired"


def _set_expiry(data: dict[str, Any], expires_after: ExpiresAfter | None) -> None:
    if expires_after is None:
        return
    data["expires_after"] = expires_after.model_dump()
    data["expires_at"] = data["last_active_at"] + expires_after.days * SECONDS_PER_DAY


async def lock(session: AsyncSession, tenant: str, store_id: str) -> VectorStore | None:
    """Lock the store's row. Every transaction that changes a store's files or batches takes
    this lock first, so they all lock in one order (store, batch, file) and cannot deadlock."""
    return await documents.fetch_for_update(session, VectorStore, tenant, store_id)


async def _row(
    session: AsyncSession,
    tenant: str,
    store_id: str,
    lock: bool = False,
    param: str | None = None,
) -> VectorStore:
    fetch = documents.fetch_for_update if lock else documents.fetch
    row = await fetch(session, VectorStore, tenant, store_id)
    if row is None:
        raise NotFound.object(KIND, store_id, param)
    return row
