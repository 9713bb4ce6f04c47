"""Queries about runs that other objects' rules need."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store.tables import ACTIVE_RUN_STATUSES, Run


async def active_run_id(session: AsyncSession, tenant: str, thread_id: str) -> str | None:
    """The run that holds the thread's lock, if any."""
    query = select(Run.id).where(
        Run.tenant == tenant, Run.thread_id == thread_id, Run.status.in_(ACTIVE_RUN_STATUSES)
    )
    return (await session.execute(query.limit(1))).scalar_one_or_none()
