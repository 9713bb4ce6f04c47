"""Message attachments for file_search go into the thread's own vector store.

The store is made on the first such attachment (``Vector store for thread_…``, expiring 7 days
after it was last active, as OpenAI's and Azure's do) and named in the thread's
``tool_resources.file_search.vector_store_ids``; a thread that already names a store gets the
files added to that one. Files are only recorded as ``in_progress`` here, each with an
``IngestionJob`` added to the caller's list; the caller hands them to the ingestion worker once
the transaction has committed, and the worker's sweep picks up any that it could not hand over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistantd.errors import NotFound
from assistantd.objects import vector_store_files, vector_stores
from assistantd.objects.thread_lock import lock_thread
from assistantd.store import documents
from assistantd.store.file_tables import VectorStoreFile
from assistantd.store.sessions import AsyncSession
from assistantd.store.tables import Thread
from assistantd.wire.vector_stores import CreateVectorStore, CreateVectorStoreFile, ExpiresAfter

THREAD_STORE_DAYS = 7


@dataclass(frozen=True, slots=True)
class IngestionJob:
    """A file added to a vector store in a transaction, to index once it has committed."""

    tenant: str
    store_id: str
    file_id: str


async def attach_to_thread_store(
    session: AsyncSession,
    tenant: str,
    thread_id: str,
    attachments: list[dict[str, Any]],
    jobs: list[IngestionJob],
) -> None:
    """Add the attachments meant for file_search to the thread's store (made if need be); the
    files to index go into ``jobs``."""
    wanted = [
        (position, a["file_id"])
        for position, a in enumerate(attachments)
        if any(tool["type"] == "file_search" for tool in a.get("tools") or ())
    ]
    if not wanted:
        return
    thread = await lock_thread(session, tenant, thread_id)
    store_id = await _thread_store(session, tenant, thread)
    added = False
    for position, file_id in wanted:
        if await _already_there(session, tenant, store_id, file_id):
            continue
        entry = CreateVectorStoreFile(file_id=file_id)
        param = f"attachments[{position}].file_id"
        await vector_store_files.add(session, tenant, store_id, entry, param=param)
        jobs.append(IngestionJob(tenant, store_id, file_id))
        added = True
    if added:
        await vector_stores.refresh(session, tenant, store_id)


async def _thread_store(session: AsyncSession, tenant: str, thread: Thread) -> str:
    resources = dict(thread.data.get("tool_resources") or {})
    named = (resources.get("file_search") or {}).get("vector_store_ids") or []
    if named and await _usable(session, tenant, named[0]):
        return str(named[0])
    body = CreateVectorStore(
        name=f"Vector store for {thread.id}",
        expires_after=ExpiresAfter(anchor="last_active_at", days=THREAD_STORE_DAYS),
    )
    store = await vector_stores.create(session, tenant, body)
    resources["file_search"] = {"vector_store_ids": [store["id"]]}
    documents.replace_data(thread, {**thread.data, "tool_resources": resources})
    return str(store["id"])


async def _usable(session: AsyncSession, tenant: str, store_id: str) -> bool:
    """A named store that was deleted or has expired is replaced by a new one."""
    try:
        return not vector_stores.is_expired(await vector_stores.get(session, tenant, store_id))
    except NotFound:
        return False


async def _already_there(session: AsyncSession, tenant: str, store_id: str, file_id: str) -> bool:
    """Attaching a file the store holds (or is indexing) again must not index it again."""
    row = await documents.fetch(session, VectorStoreFile, tenant, file_id, vector_store_id=store_id)
    return row is not None and row.status in ("in_progress", "completed")
