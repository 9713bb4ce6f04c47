"""The stores a file_search call searches: which of them are live, and waiting for their files
that are still being indexed."""

from __future__ import annotations

import asyncio

from assistantd.errors import NotFound
from assistantd.objects import vector_stores
from assistantd.store import documents, vector_store_file_queries
from assistantd.store.database import Database
from assistantd.store.tables import Assistant, Thread
from assistantd.tools.interface import ToolContext

POLL_SECONDS = 0.1


async def live_stores(db: Database, tenant: str, store_ids: list[str]) -> list[str]:
    """The stores that exist and have not expired, each marked active now (a search keeps a
    store with ``expires_after`` alive, as OpenAI's does)."""
    live = []
    async with db.write() as session:
        for store_id in dict.fromkeys(store_ids):
            try:
                if vector_stores.is_expired(await vector_stores.get(session, tenant, store_id)):
                    continue
                await vector_stores.touch(session, tenant, store_id)
            except NotFound:
                continue  # deleted since it was attached: nothing to search there
            live.append(store_id)
    return live


async def wait_for_indexing(db: Database, tenant: str, store_ids: list[str], seconds: float) -> int:
    """Wait until none of the stores' files is in progress, or ``seconds`` have passed; returns
    how many are still in progress."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        pending = await _in_progress(db, tenant, store_ids)
        if pending == 0 or loop.time() >= deadline:
            return pending
        await asyncio.sleep(POLL_SECONDS)


async def _in_progress(db: Database, tenant: str, store_ids: list[str]) -> int:
    if not store_ids:
        return 0
    async with db.read() as session:
        return await vector_store_file_queries.count_in_progress(session, tenant, store_ids)


async def run_store_ids(context: ToolContext) -> list[str]:
    """The stores of the assistant, the thread and the run together.

    The engine's merged ``tool_resources`` let the thread's ``file_search`` hide the
    assistant's, but both apply to a run (SEMANTICS.md §4): a file the user attached (the
    thread's store) must not make the assistant's own knowledge unsearchable.
    """
    async with context.db.read() as session:
        assistant = await documents.fetch(session, Assistant, context.tenant, context.assistant_id)
        thread = await documents.fetch(session, Thread, context.tenant, context.thread_id)
    sources = [row.data.get("tool_resources") for row in (assistant, thread) if row is not None]
    sources.append(context.tool_resources)
    ids: list[str] = []
    for resources in sources:
        ids += ((resources or {}).get("file_search") or {}).get("vector_store_ids") or []
    return list(dict.fromkeys(ids))
