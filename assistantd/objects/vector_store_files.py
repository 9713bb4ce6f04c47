"""Vector-store files: a file's membership in a store and the state of its indexing.

Adding a file only records it as ``in_progress``; the ingestion worker does the work and calls
``finish``. Callers refresh the store's counts (``vector_stores.refresh``) in the same
transaction and enqueue the work once it has committed.
"""

from __future__ import annotations

import time
from typing import Any

from assistantd.clock import now
from assistantd.errors import InvalidRequest, NotFound
from assistantd.objects import files, vector_stores
from assistantd.store import documents, vector_store_file_queries
from assistantd.store.documents import Page, PageRequest
from assistantd.store.file_tables import VectorStoreFile
from assistantd.store.sessions import AsyncSession
from assistantd.wire.vector_stores import (
    CreateVectorStore,
    CreateVectorStoreFile,
    chunking_to_wire,
)

KIND = "vector store file"


async def add(
    session: AsyncSession,
    tenant: str,
    store_id: str,
    entry: CreateVectorStoreFile,
    batch_id: str | None = None,
    param: str = "file_id",
) -> dict[str, Any]:
    """Record the file as being indexed (again, if it was already in the store)."""
    await files.get(session, tenant, entry.file_id, param)
    await vector_stores.lock(session, tenant, store_id)
    created_at = now()
    data: dict[str, Any] = {
        "id": entry.file_id,
        "object": "vector_store.file",
        "usage_bytes": 0,
        "created_at": created_at,
        "vector_store_id": store_id,
        "status": "in_progress",
        "last_error": None,
        "chunking_strategy": chunking_to_wire(entry.chunking_strategy),
        "attributes": entry.attributes or {},
    }
    row = await documents.fetch_for_update(
        session, VectorStoreFile, tenant, entry.file_id, vector_store_id=store_id
    )
    if row is None:
        await documents.add(
            session,
            VectorStoreFile,
            id=entry.file_id,
            tenant=tenant,
            created_at=created_at,
            vector_store_id=store_id,
            batch_id=batch_id,
            status="in_progress",
            usage_bytes=0,
            data=data,
        )
    else:
        row.batch_id = batch_id
        # A new version to index: whoever indexes the old one no longer holds it.
        row.claimed_by = None
        row.lease_expires_at = None
        _set(row, data)
    return data


async def get(session: AsyncSession, tenant: str, store_id: str, file_id: str) -> dict[str, Any]:
    return (await _row(session, tenant, store_id, file_id)).data


async def update_attributes(
    session: AsyncSession, tenant: str, store_id: str, file_id: str, attributes: dict[str, Any]
) -> dict[str, Any]:
    row = await _row(session, tenant, store_id, file_id, lock=True)
    data = dict(row.data) | {"attributes": attributes}
    documents.replace_data(row, data)
    return data


async def remove(session: AsyncSession, tenant: str, store_id: str, file_id: str) -> dict:
    await vector_stores.lock(session, tenant, store_id)
    row = await _row(session, tenant, store_id, file_id)
    await documents.remove(session, row)
    await vector_stores.refresh(session, tenant, store_id)
    return {"id": file_id, "object": "vector_store.file.deleted", "deleted": True}


async def list_page(
    session: AsyncSession,
    tenant: str,
    store_id: str,
    request: PageRequest,
    status: str | None,
    batch_id: str | None = None,
) -> Page:
    return await documents.page(
        session,
        VectorStoreFile,
        tenant,
        request,
        vector_store_id=store_id,
        status=status,
        batch_id=batch_id,
    )


class ClaimLost(Exception):
    """Another worker holds the file now (it was re-added, or our lease lapsed and it was taken
    over): the outcome is that worker's to record, and the chunks are its too."""


async def claim(
    session: AsyncSession,
    tenant: str,
    store_id: str,
    file_id: str,
    worker: str,
    lease_expires_at: float,
    exclusive: bool = False,
) -> bool:
    """Take the file to index it: only one worker gets an in-progress file whose claim is free,
    ours, or lapsed (one conditional UPDATE: concurrent claimants queue on the row lock and
    re-check the condition). ``exclusive`` (a single server process on the database, SQLite)
    takes it whoever held it: that holder is a previous run of this server."""
    return await vector_store_file_queries.claim_in_progress_file(
        session, tenant, store_id, file_id, worker, lease_expires_at, time.time(), exclusive
    )


async def renew(
    session: AsyncSession, store_id: str, file_id: str, worker: str, lease_expires_at: float
) -> bool:
    """Extend our claim on the file; False when we no longer hold it."""
    return await vector_store_file_queries.renew_file_claim(
        session, store_id, file_id, worker, lease_expires_at
    )


async def finish(
    session: AsyncSession,
    tenant: str,
    store_id: str,
    file_id: str,
    usage_bytes: int = 0,
    error: tuple[str, str] | None = None,
    worker: str | None = None,
) -> VectorStoreFile | None:
    """Record the outcome of indexing; returns the row, or None when the file is no longer
    in progress (removed or cancelled meanwhile, so the work is to be thrown away). Raises
    ``ClaimLost`` when another worker than ``worker`` holds the file now."""
    await vector_stores.lock(session, tenant, store_id)
    row = await documents.fetch_for_update(
        session, VectorStoreFile, tenant, file_id, vector_store_id=store_id
    )
    if row is None or row.status != "in_progress":
        return None
    if worker is not None and row.claimed_by not in (None, worker):
        raise ClaimLost(file_id)
    row.lease_expires_at = None
    data = dict(row.data)
    if error is None:
        data |= {"status": "completed", "usage_bytes": usage_bytes, "last_error": None}
    else:
        data |= {"status": "failed", "last_error": {"code": error[0], "message": error[1]}}
    row.usage_bytes = data["usage_bytes"]
    _set(row, data)
    await vector_stores.refresh(session, tenant, store_id)
    return row


async def cancel_batch_files(session: AsyncSession, tenant: str, batch_id: str) -> list[str]:
    """Mark the batch's files still in progress as cancelled; returns their file ids."""
    rows = await vector_store_file_queries.lock_batch_in_progress(session, tenant, batch_id)
    for row in rows:
        _set(row, dict(row.data) | {"status": "cancelled"})
    return [row.id for row in rows]


async def unfinished(
    session: AsyncSession, worker: str | None = None
) -> list[tuple[str, str, str]]:
    """``(tenant, store_id, file_id)`` of every file still in progress, across all tenants (for
    re-queuing at start-up). With ``worker``, only those it could claim now (not held by a live
    claim of another worker)."""
    return await vector_store_file_queries.in_progress_file_keys(session, worker, time.time())


def check_status_filter(value: str | None) -> str | None:
    if value is not None and value not in vector_stores.FILE_STATUSES:
        raise InvalidRequest(
            f"Invalid value for 'filter': must be one of {', '.join(vector_stores.FILE_STATUSES)}.",
            "filter",
        )
    return value


def _set(row: VectorStoreFile, data: dict[str, Any]) -> None:
    row.status = data["status"]
    documents.replace_data(row, data)


async def _row(
    session: AsyncSession, tenant: str, store_id: str, file_id: str, lock: bool = False
) -> VectorStoreFile:
    fetch = documents.fetch_for_update if lock else documents.fetch
    row = await fetch(session, VectorStoreFile, tenant, file_id, vector_store_id=store_id)
    if row is None:
        raise NotFound.object(KIND, file_id)
    return row


async def create_store(
    session: AsyncSession, tenant: str, body: CreateVectorStore
) -> tuple[dict[str, Any], list[str]]:
    """A new store with ``body.file_ids`` added; returns it and the file ids to index."""
    store = await vector_stores.create(session, tenant, body)
    file_ids = list(dict.fromkeys(body.file_ids))
    for position, file_id in enumerate(file_ids):
        entry = CreateVectorStoreFile(file_id=file_id, chunking_strategy=body.chunking_strategy)
        await add(session, tenant, store["id"], entry, param=f"file_ids[{position}]")
    if file_ids:
        await vector_stores.refresh(session, tenant, store["id"])
        store = await vector_stores.get(session, tenant, store["id"])
    return store, file_ids
