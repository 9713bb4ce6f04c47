"""Files: the stored record of an uploaded blob (its bytes live in the blob store under its id)."""

from __future__ import annotations

from typing import Any

from assistantd.clock import now
from assistantd.errors import NotFound
from assistantd.ids import new_id
from assistantd.objects import vector_stores
from assistantd.store import documents, file_queries, vector_store_file_queries
from assistantd.store.documents import Page, PageRequest
from assistantd.store.file_tables import File, VectorStoreFile
from assistantd.store.sessions import AsyncSession

KIND = "file"


def new_file_id() -> str:
    return new_id("file-")


async def create(
    session: AsyncSession,
    tenant: str,
    file_id: str,
    filename: str,
    purpose: str,
    size: int,
    expires_after_seconds: int | None = None,
) -> dict[str, Any]:
    """Record a file whose bytes are already committed under ``file_id``."""
    created_at = now()
    data: dict[str, Any] = {
        "id": file_id,
        "object": "file",
        "bytes": size,
        "created_at": created_at,
        "filename": filename,
        "purpose": purpose,
        "status": "processed",
    }
    if expires_after_seconds is not None:
        data["expires_at"] = created_at + expires_after_seconds
    await documents.add(
        session,
        File,
        id=file_id,
        tenant=tenant,
        created_at=created_at,
        purpose=purpose,
        expires_at=data.get("expires_at"),
        data=data,
    )
    return data


async def get(session: AsyncSession, tenant: str, file_id: str, param: str | None = None) -> dict:
    """The file, unless it is missing or has expired (expired files are gone for every purpose,
    also before the sweep deletes them)."""
    data = await file_queries.live_file_data(session, tenant, file_id, now())
    if data is None:
        raise NotFound.object(KIND, file_id, param)
    return data


async def get_many(session: AsyncSession, tenant: str, file_ids: list[str]) -> dict[str, dict]:
    """The live files among ``file_ids``, by id (missing and expired ones are simply absent)."""
    if not file_ids:
        return {}
    found = await file_queries.live_files_data(session, tenant, file_ids, now())
    return {data["id"]: data for data in found}


async def delete(session: AsyncSession, tenant: str, file_id: str) -> list[str]:
    """Delete the record and its memberships; returns the ids of the stores it was in (the caller
    then drops its chunks and blob once this transaction has committed). An expired file is
    not found, as it is everywhere else."""
    # Locked: of two deletes at once, the second waits and then finds nothing (a clean 404).
    row = await file_queries.lock_live_file(session, tenant, file_id, now())
    if row is None:
        raise NotFound.object(KIND, file_id)
    return await _remove(session, row)


async def expired(session: AsyncSession, limit: int) -> list[tuple[str, str]]:
    """``(tenant, file_id)`` of up to ``limit`` files that have expired, across all tenants,
    the longest expired first (for the expiry sweep)."""
    return await file_queries.expired_file_keys(session, now(), limit)


async def delete_expired(session: AsyncSession, tenant: str, file_id: str) -> list[str] | None:
    """Like ``delete``, for a file that has expired; None when it is gone already or another
    transaction is deleting it (another server process's sweep: it is skipped, not waited
    for)."""
    row = await file_queries.lock_expired_file(session, tenant, file_id, now())
    if row is None:
        return None
    return await _remove(session, row)


async def _remove(session: AsyncSession, row: File) -> list[str]:
    store_ids = sorted(
        await vector_store_file_queries.stores_holding_file(session, row.tenant, row.id)
    )
    for store_id in store_ids:  # store locks first, in one order (see vector_stores.lock)
        await vector_stores.lock(session, row.tenant, store_id)
    await documents.remove_where(session, VectorStoreFile, tenant=row.tenant, id=row.id)
    await documents.remove(session, row)
    for store_id in store_ids:
        await vector_stores.refresh(session, row.tenant, store_id)
    return store_ids


def deleted(file_id: str) -> dict[str, Any]:
    return {"id": file_id, "object": "file", "deleted": True}


async def list_page(
    session: AsyncSession, tenant: str, request: PageRequest, purpose: str | None
) -> Page:
    return await file_queries.live_files_page(session, tenant, request, purpose, now())
