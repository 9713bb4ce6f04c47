"""Files: the stored record of an uploaded blob (its bytes live in the blob store under its id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
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
    row = File(id=file_id, tenant=tenant, created_at=created_at, purpose=purpose, data=data)
    await documents.insert(session, row)
    return data


async def get(session: AsyncSession, tenant: str, file_id: str, param: str | None = None) -> dict:
    row = await documents.fetch(session, File, tenant, file_id)
    if row is None or _expired(row.data):
        raise NotFound.object(KIND, file_id, param)
    return row.data


async def get_many(session: AsyncSession, tenant: str, file_ids: list[str]) -> dict[str, dict]:
    """The live files among ``file_ids``, by id (missing ones are simply absent)."""
    if not file_ids:
        return {}
    query = select(File.data).where(File.tenant == tenant, File.id.in_(set(file_ids)))
    rows = (await session.execute(query)).scalars()
    return {data["id"]: data for data in rows if not _expired(data)}


async def delete(session: AsyncSession, tenant: str, file_id: str) -> list[str]:
    """Delete the record and its memberships; returns the ids of the stores it was in (the caller
    then drops its chunks and blob once this transaction has committed)."""
    row = await documents.fetch(session, File, tenant, file_id)
    if row is None:
        raise NotFound.object(KIND, file_id)
    query = select(VectorStoreFile.vector_store_id).where(
        VectorStoreFile.tenant == tenant, VectorStoreFile.id == file_id
    )
    store_ids = sorted((await session.execute(query)).scalars())
    for store_id in store_ids:  # store locks first, in one order (see vector_stores.lock)
        await vector_stores.lock(session, tenant, store_id)
    await documents.remove_where(session, VectorStoreFile, tenant=tenant, id=file_id)
    await documents.remove(session, row)
    for store_id in store_ids:
        await vector_stores.refresh(session, tenant, store_id)
    return store_ids


def deleted(file_id: str) -> dict[str, Any]:
    return {"id": file_id, "object": "file", "deleted": True}


async def list_page(
    session: AsyncSession, tenant: str, request: PageRequest, purpose: str | None
) -> Page:
    return await documents.page(session, File, tenant, request, purpose=purpose)


def _expired(data: dict[str, Any]) -> bool:
    expires_at = data.get("expires_at")
    return expires_at is not None and expires_at <= now()
