"""Deleting a file for good, the one way ``DELETE /files/{id}`` and the expiry sweep both do it:
its record and its vector-store memberships in one transaction (the stores' ``file_counts`` and
``usage_bytes`` recounted there), then, once that has committed, its chunks in each store's
index and its bytes."""

from __future__ import annotations

from assistantd.objects import files
from assistantd.retrieval.ingestion_worker import IngestionWorker
from assistantd.store.database import Database


async def delete_file(db: Database, ingestion: IngestionWorker, tenant: str, file_id: str) -> None:
    """Raises NotFound for a file that is missing or has expired."""
    async with db.write() as session:
        store_ids = await files.delete(session, tenant, file_id)
    await _drop_contents(ingestion, file_id, store_ids)


async def delete_expired_file(
    db: Database, ingestion: IngestionWorker, tenant: str, file_id: str
) -> bool:
    """Delete a file that has expired; False if it was gone already (or is being deleted by
    another server process)."""
    async with db.write() as session:
        store_ids = await files.delete_expired(session, tenant, file_id)
    if store_ids is None:
        return False
    await _drop_contents(ingestion, file_id, store_ids)
    return True


async def _drop_contents(ingestion: IngestionWorker, file_id: str, store_ids: list[str]) -> None:
    for store_id in store_ids:
        await ingestion.forget(store_id, file_id)
    await ingestion.blobs.delete(file_id)
