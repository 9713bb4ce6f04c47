"""What the code produced, kept as files of the tenant (purpose ``assistants_output``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from assistantd.objects import files
from assistantd.store.blobs import BlobStore
from assistantd.store.database import Database

PURPOSE = "assistants_output"


@dataclass(frozen=True)
class NewFile:
    filename: str
    data: bytes


async def save_outputs(
    db: Database, blobs: BlobStore, tenant: str, produced: list[NewFile]
) -> list[str]:
    """Store each file (bytes first, then one transaction for the records); their ids, in order.
    If the records cannot be written, the blobs are removed again."""
    ids = [files.new_file_id() for _ in produced]
    for file_id, new in zip(ids, produced, strict=True):
        await _write_blob(blobs, file_id, new.data)
    try:
        async with db.write() as session:
            for file_id, new in zip(ids, produced, strict=True):
                await files.create(session, tenant, file_id, new.filename, PURPOSE, len(new.data))
    except BaseException:
        for file_id in ids:
            await blobs.delete(file_id)
        raise
    return ids


async def _write_blob(blobs: BlobStore, file_id: str, data: bytes) -> None:
    staged = blobs.stage()
    try:
        await asyncio.to_thread(staged.write, data)
        await staged.commit(file_id)
    except BaseException:
        staged.discard()
        raise
