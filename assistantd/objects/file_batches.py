"""Vector-store file batches: many files added at once, tracked (and cancellable) together."""

from __future__ import annotations

from typing import Any

from assistantd.clock import now
from assistantd.errors import NotFound
from assistantd.ids import new_id
from assistantd.objects import vector_store_files, vector_stores
from assistantd.store import documents, vector_store_file_queries
from assistantd.store.file_tables import FileBatch
from assistantd.store.sessions import AsyncSession
from assistantd.wire.vector_stores import CreateFileBatch

KIND = "vector store file batch"


async def create(
    session: AsyncSession, tenant: str, store_id: str, body: CreateFileBatch
) -> tuple[dict[str, Any], list[str]]:
    """The batch, and the ids of the files to index once the transaction commits."""
    await vector_stores.require(session, tenant, store_id)
    created_at = now()
    batch_id = new_id("vsfb_")
    file_ids: list[str] = []
    for position, entry in enumerate(body.entries()):
        param = f"files[{position}].file_id" if body.files else f"file_ids[{position}]"
        await vector_store_files.add(session, tenant, store_id, entry, batch_id, param)
        file_ids.append(entry.file_id)
    data: dict[str, Any] = {
        "id": batch_id,
        "object": "vector_store.files_batch",
        "created_at": created_at,
        "vector_store_id": store_id,
        "status": "in_progress",
        "file_counts": vector_stores.empty_counts(),
    }
    await documents.add(
        session,
        FileBatch,
        id=batch_id,
        tenant=tenant,
        created_at=created_at,
        vector_store_id=store_id,
        data=data,
    )
    await vector_stores.refresh(session, tenant, store_id)
    return await refresh(session, tenant, batch_id) or data, list(dict.fromkeys(file_ids))


async def get(session: AsyncSession, tenant: str, store_id: str, batch_id: str) -> dict[str, Any]:
    return (await _row(session, tenant, store_id, batch_id)).data


async def require(session: AsyncSession, tenant: str, store_id: str, batch_id: str) -> None:
    await _row(session, tenant, store_id, batch_id)


async def cancel(
    session: AsyncSession, tenant: str, store_id: str, batch_id: str
) -> tuple[dict[str, Any], list[str]]:
    """Cancel the files not yet indexed; returns the batch and the ids of the cancelled files."""
    await vector_stores.lock(session, tenant, store_id)
    row = await _row(session, tenant, store_id, batch_id, lock=True)
    cancelled = await vector_store_files.cancel_batch_files(session, tenant, batch_id)
    if row.data["status"] == "in_progress":
        documents.replace_data(row, dict(row.data) | {"status": "cancelled"})
    await vector_stores.refresh(session, tenant, store_id)
    return await refresh(session, tenant, batch_id) or row.data, cancelled


async def refresh(session: AsyncSession, tenant: str, batch_id: str | None) -> dict | None:
    """Recompute the batch's counts and status from its files."""
    if batch_id is None:
        return None
    row = await documents.fetch_for_update(session, FileBatch, tenant, batch_id)
    if row is None:
        return None
    counts = vector_stores.empty_counts()
    for status, count in await vector_store_file_queries.batch_status_counts(
        session, tenant, batch_id
    ):
        counts[status] = int(count)
        counts["total"] += int(count)
    data = dict(row.data) | {"file_counts": counts}
    if data["status"] != "cancelled":
        data["status"] = _status(counts)
    documents.replace_data(row, data)
    return data


def _status(counts: dict[str, int]) -> str:
    if counts["in_progress"]:
        return "in_progress"
    if counts["total"] and counts["failed"] == counts["total"]:
        return "failed"
    return "completed"


async def _row(
    session: AsyncSession, tenant: str, store_id: str, batch_id: str, lock: bool = False
) -> FileBatch:
    fetch = documents.fetch_for_update if lock else documents.fetch
    row = await fetch(session, FileBatch, tenant, batch_id, vector_store_id=store_id)
    if row is None:
        raise NotFound.object(KIND, batch_id)
    return row
