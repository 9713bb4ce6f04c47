"""What ``GET /vector_stores/{id}/files/{file_id}/content`` answers: the file's parsed text, the
text that was chunked, as one ``vector_store.file_content.page`` (empty until it is indexed)."""

from __future__ import annotations

from typing import Any

import anyio

from assistantd.objects import files, vector_store_files
from assistantd.retrieval.parse import parse
from assistantd.store.blobs import BlobStore
from assistantd.store.database import Database


async def content_page(
    db: Database, blobs: BlobStore, tenant: str, store_id: str, file_id: str
) -> dict[str, Any]:
    async with db.read() as session:
        membership = await vector_store_files.get(session, tenant, store_id, file_id)
        file = await files.get(session, tenant, file_id)
    pages: list[dict[str, str]] = []
    if membership["status"] == "completed":
        raw = await blobs.read(file_id)
        text = await anyio.to_thread.run_sync(parse, raw, file["filename"])
        pages = [{"type": "text", "text": text}]
    return {
        "object": "vector_store.file_content.page",
        "data": pages,
        "has_more": False,
        "next_page": None,
    }
