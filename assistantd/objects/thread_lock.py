"""Finding a thread, and taking its lock.

Changes to a thread's runs and messages lock the thread's row first, so two concurrent requests
can't both pass a "no active run" check (PostgreSQL row lock; on SQLite every write transaction
is already serialised by the single writer connection).
"""

from __future__ import annotations

from assistantd.errors import NotFound
from assistantd.store import documents
from assistantd.store.sessions import AsyncSession
from assistantd.store.tables import Thread


async def find_thread(session: AsyncSession, tenant: str, thread_id: str) -> Thread:
    row = await documents.fetch(session, Thread, tenant, thread_id)
    if row is None:
        raise NotFound.object("thread", thread_id)
    return row


async def lock_thread(session: AsyncSession, tenant: str, thread_id: str) -> Thread:
    row = await documents.fetch_for_update(session, Thread, tenant, thread_id)
    if row is None:
        raise NotFound.object("thread", thread_id)
    return row
