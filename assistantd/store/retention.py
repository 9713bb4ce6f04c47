"""The queries of retention (``ASSISTANTD_RETENTION_*_DAYS``): which threads have been idle, and
which files are old, past a cutoff (Unix seconds), oldest first; and the deletion of usage
minutes before a cutoff, oldest first.

A thread is idle when neither it nor any of its messages or runs was created at or after the
cutoff: a conversation still going on is kept, however old its thread. Files are old by their
upload; an expired file is left to the expiry sweep (to clients it is gone already).
"""

from __future__ import annotations

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from assistantd.store.database import Database
from assistantd.store.driver_sql import Statement
from assistantd.store.file_tables import File
from assistantd.store.tables import Message, Run, Thread

# Up to :limit of the oldest usage minutes before :cutoff, through the primary key (minute
# first). Each row is only counts, nothing to delete along with it: one statement per batch.
_OLD_USAGE = (
    "SELECT minute, kind, tenant, model, slot FROM usage_minutes WHERE minute < :cutoff"
    " ORDER BY minute LIMIT :limit"
)
_DELETE_USAGE = (
    "DELETE FROM usage_minutes WHERE (minute, kind, tenant, model, slot) IN ({old})"
    " RETURNING minute"
)
DELETE_OLD_USAGE_SQLITE = Statement(_DELETE_USAGE.format(old=_OLD_USAGE))
# PostgreSQL: rows another process's sweep is deleting are skipped, not waited for (its batch
# would leave this one nothing to delete once committed); they go with that one's commit.
DELETE_OLD_USAGE_POSTGRESQL = Statement(
    _DELETE_USAGE.format(old=_OLD_USAGE + " FOR UPDATE SKIP LOCKED")
)


def _idle_since(cutoff: int) -> ColumnElement[bool]:
    newer_message = exists().where(
        Message.tenant == Thread.tenant,
        Message.thread_id == Thread.id,
        Message.created_at >= cutoff,
    )
    newer_run = exists().where(
        Run.tenant == Thread.tenant, Run.thread_id == Thread.id, Run.created_at >= cutoff
    )
    return and_(Thread.created_at < cutoff, ~newer_message, ~newer_run)


async def idle_threads(session: AsyncSession, cutoff: int, limit: int) -> list[tuple[str, str]]:
    """``(tenant, thread_id)`` of up to ``limit`` threads idle since ``cutoff``, oldest first."""
    query = (
        select(Thread.tenant, Thread.id)
        .where(_idle_since(cutoff))
        .order_by(Thread.seq)  # the insertion order: the oldest first, through the primary key
        .limit(limit)
    )
    return [(tenant, thread_id) for tenant, thread_id in await session.execute(query)]


async def is_idle(session: AsyncSession, tenant: str, thread_id: str, cutoff: int) -> bool:
    """Whether the thread is (still) idle since ``cutoff``: asked again once it is locked, as a
    message may have arrived since it was chosen."""
    query = select(Thread.id).where(
        Thread.tenant == tenant, Thread.id == thread_id, _idle_since(cutoff)
    )
    return (await session.execute(query)).first() is not None


async def old_files(
    session: AsyncSession, cutoff: int, now: int, limit: int
) -> list[tuple[str, str]]:
    """``(tenant, file_id)`` of up to ``limit`` files uploaded before ``cutoff`` and not expired
    at ``now``, oldest first."""
    query = (
        select(File.tenant, File.id)
        .where(File.created_at < cutoff, or_(File.expires_at.is_(None), File.expires_at > now))
        .order_by(File.seq)
        .limit(limit)
    )
    return [(tenant, file_id) for tenant, file_id in await session.execute(query)]


async def delete_old_usage(db: Database, cutoff: int, limit: int) -> int:
    """Deletes up to ``limit`` of the oldest usage minutes (rows) that began before ``cutoff``,
    in a transaction by itself; returns how many it deleted."""
    statement = DELETE_OLD_USAGE_SQLITE if db.is_sqlite else DELETE_OLD_USAGE_POSTGRESQL
    return len(await db.write_rows(statement, {"cutoff": cutoff, "limit": limit}))
