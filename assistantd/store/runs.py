"""Queries about runs that other objects' rules need."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store import run_statuses
from assistantd.store.database import Database
from assistantd.store.driver_sql import Statement
from assistantd.store.tables import Run, RunStep

# CAST: SQLite stores the text as written; PostgreSQL's JSONB prints itself. Either way the
# server sends the stored JSON as it is, without decoding and encoding it again.
_RUN_JSON = Statement(
    "SELECT CAST(data AS TEXT), status FROM runs "
    "WHERE id = :run_id AND tenant = :tenant AND thread_id = :thread_id"
)


async def run_json(
    db: Database, tenant: str, thread_id: str, run_id: str
) -> tuple[str, str] | None:
    """The run's wire object as stored JSON text, and its status (the polling path), or None."""
    params = {"run_id": run_id, "tenant": tenant, "thread_id": thread_id}
    row = await db.read_row(_RUN_JSON, params)
    return None if row is None else (row[0], row[1])


async def active_run_id(session: AsyncSession, tenant: str, thread_id: str) -> str | None:
    """The run that holds the thread's lock, if any."""
    query = select(Run.id).where(
        Run.tenant == tenant, Run.thread_id == thread_id, Run.status.in_(run_statuses.ACTIVE)
    )
    return (await session.execute(query.limit(1))).scalar_one_or_none()


async def engine_steps_data(
    session: AsyncSession, tenant: str, thread_id: str
) -> list[dict[str, Any]]:
    """The wire objects of the thread's steps that carry engine data (only tool_calls steps
    do), oldest first."""
    query = (
        select(RunStep.data)
        .where(
            RunStep.tenant == tenant,
            RunStep.thread_id == thread_id,
            RunStep.engine.is_not(None),
        )
        .order_by(RunStep.seq)
    )
    return list((await session.execute(query)).scalars())
