"""Files: the stored record of an uploaded blob (its bytes live in the blob store under its id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.clock import now
from assistantd.errors import NotFound
from assistantd.ids import new_id
from assistantd.objects import vector_stores
from assistantd.store import documents
from assistantd.store.documents import Page, PageRequest
from assistantd.store.file_tables import File, VectorStoreFile

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
    row = File(
        id=file_id,
        tenant=tenant,
        created_at=created_at,
        purpose=purpose,
        expires_at=data.get("expires_at"),
        data=data,
    )
    await documents.insert(session, row)
    return data


async def get(session: AsyncSession, tenant: str, file_id: str, param: str | None = None) -> dict:
    """The file, unless it is missing or has expired (expired files are gone for every purpose,
    also before the sweep deletes them)."""
    query = select(File.data).where(File.tenant == tenant, File.id == file_id, _live(now()))
    data = (await session.execute(query)).scalar_one_or_none()
    if data is None:
        raise NotFound.object(KIND, file_id, param)
    return data


async def get_many(session: AsyncSession, tenant: str, file_ids: list[str]) -> dict[str, dict]:
    """The live files among ``file_ids``, by id (missing and expired ones are simply absent)."""
    if not file_ids:
        return {}
    query = select(File.data).where(File.tenant == tenant, File.id.in_(set(file_ids)), _live(now()))
    return {data["id"]: data for data in (await session.execute(query)).scalars()}


async def delete(session: AsyncSession, tenant: str, file_id: str) -> list[str]:
    """Delete the record and its memberships; returns the ids of the stores it was in (the caller
    then drops its chunks and blob once this transaction has committed). An expired file is
    not found, as it is everywhere else."""
    query = select(File).where(File.tenant == tenant, File.id == file_id, _live(now()))
    # Locked: of two deletes at once, the second waits and then finds nothing (a clean 404).
    row = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if row is None:
        raise NotFound.object(KIND, file_id)
    return await _remove(session, row)


async def expired(session: AsyncSession, limit: int) -> list[tuple[str, str]]:
    """``(tenant, file_id)`` of up to ``limit`` files that have expired, across all tenants,
    the longest expired first (for the expiry sweep)."""
    query = (
        select(File.tenant, File.id)
        .where(File.expires_at <= now())
        .order_by(File.expires_at, File.seq)
        .limit(limit)
    )
    return [(tenant, file_id) for tenant, file_id in await session.execute(query)]


async def delete_expired(session: AsyncSession, tenant: str, file_id: str) -> list[str] | None:
    """Like ``delete``, for a file that has expired; None when it is gone already or another
    transaction is deleting it (another server process's sweep: it is skipped, not waited
    for)."""
    query = select(File).where(File.tenant == tenant, File.id == file_id, File.expires_at <= now())
    row = (await session.execute(query.with_for_update(skip_locked=True))).scalar_one_or_none()
    if row is None:
        return None
    return await _remove(session, row)


async def _remove(session: AsyncSession, row: File) -> list[str]:
    query = select(VectorStoreFile.vector_store_id).where(
        VectorStoreFile.tenant == row.tenant, VectorStoreFile.id == row.id
    )
    store_ids = sorted((await session.execute(query)).scalars())
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
    return await documents.page(session, File, tenant, request, where=_live(now()), purpose=purpose)


def _live(at: int) -> ColumnElement[bool]:
    """Files not expired at ``at`` (``expires_at`` is the first second a file is gone)."""
    return or_(File.expires_at.is_(None), File.expires_at > at)
