"""Queries on files' memberships of vector stores (the ``vector_store_files`` table): which
stores hold a file, the counts a store or batch shows, and the ingestion workers' claims."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store.file_tables import VectorStoreFile


async def stores_holding_file(session: AsyncSession, tenant: str, file_id: str) -> list[str]:
    """The ids of the stores the file is in."""
    query = select(VectorStoreFile.vector_store_id).where(
        VectorStoreFile.tenant == tenant, VectorStoreFile.id == file_id
    )
    return list((await session.execute(query)).scalars())


async def store_status_counts(
    session: AsyncSession, tenant: str, store_id: str
) -> list[tuple[str, int, int | None]]:
    """``(status, files, their usage_bytes summed)`` of each status the store's files are in."""
    query = (
        select(VectorStoreFile.status, func.count(), func.sum(VectorStoreFile.usage_bytes))
        .where(VectorStoreFile.tenant == tenant, VectorStoreFile.vector_store_id == store_id)
        .group_by(VectorStoreFile.status)
    )
    return [(status, count, usage) for status, count, usage in await session.execute(query)]


async def batch_status_counts(
    session: AsyncSession, tenant: str, batch_id: str
) -> list[tuple[str, int]]:
    """``(status, files)`` of each status the batch's files are in."""
    query = (
        select(VectorStoreFile.status, func.count())
        .where(VectorStoreFile.tenant == tenant, VectorStoreFile.batch_id == batch_id)
        .group_by(VectorStoreFile.status)
    )
    return [(status, count) for status, count in await session.execute(query)]


async def count_in_progress(session: AsyncSession, tenant: str, store_ids: list[str]) -> int:
    """How many of the stores' files are still being indexed."""
    query = select(func.count()).where(
        VectorStoreFile.tenant == tenant,
        VectorStoreFile.vector_store_id.in_(store_ids),
        VectorStoreFile.status == "in_progress",
    )
    return int((await session.execute(query)).scalar_one())


async def lock_batch_in_progress(
    session: AsyncSession, tenant: str, batch_id: str
) -> list[VectorStoreFile]:
    """The rows of the batch's files still in progress, locked until the transaction ends."""
    query = select(VectorStoreFile).where(
        VectorStoreFile.tenant == tenant,
        VectorStoreFile.batch_id == batch_id,
        VectorStoreFile.status == "in_progress",
    )
    return list((await session.execute(query.with_for_update())).scalars())


async def claim_in_progress_file(
    session: AsyncSession,
    tenant: str,
    store_id: str,
    file_id: str,
    worker: str,
    lease_expires_at: float,
    at: float,
    exclusive: bool = False,
) -> bool:
    """Take the in-progress file for ``worker`` if its claim is free, ours, or lapsed at ``at``
    (``exclusive``: whoever holds it); False when it is not taken. One conditional UPDATE:
    concurrent claimants queue on the row lock and re-check the condition."""
    statement = update(VectorStoreFile).where(
        VectorStoreFile.tenant == tenant,
        VectorStoreFile.vector_store_id == store_id,
        VectorStoreFile.id == file_id,
        VectorStoreFile.status == "in_progress",
    )
    if not exclusive:
        statement = statement.where(_claimable(worker, at))
    statement = statement.values(
        claimed_by=worker, lease_expires_at=lease_expires_at, claims=VectorStoreFile.claims + 1
    )
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount == 1


async def renew_file_claim(
    session: AsyncSession, store_id: str, file_id: str, worker: str, lease_expires_at: float
) -> bool:
    """Extend ``worker``'s claim on the file; False when it no longer holds it."""
    statement = (
        update(VectorStoreFile)
        .where(
            VectorStoreFile.vector_store_id == store_id,
            VectorStoreFile.id == file_id,
            VectorStoreFile.claimed_by == worker,
        )
        .values(lease_expires_at=lease_expires_at)
    )
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount == 1


async def in_progress_file_keys(
    session: AsyncSession, claimable_by: str | None, at: float
) -> list[tuple[str, str, str]]:
    """``(tenant, store_id, file_id)`` of every file in progress, across all tenants, oldest
    first; with ``claimable_by``, only those that worker could claim at ``at``."""
    query = select(
        VectorStoreFile.tenant, VectorStoreFile.vector_store_id, VectorStoreFile.id
    ).where(VectorStoreFile.status == "in_progress")
    if claimable_by is not None:
        query = query.where(_claimable(claimable_by, at))
    return [(t, s, f) for t, s, f in await session.execute(query.order_by(VectorStoreFile.seq))]


def _claimable(worker: str, at: float) -> ColumnElement[bool]:
    # No lease: nobody holds the file (it finished, and was set back in progress since).
    return or_(
        VectorStoreFile.claimed_by.is_(None),
        VectorStoreFile.lease_expires_at.is_(None),
        VectorStoreFile.claimed_by == worker,
        VectorStoreFile.lease_expires_at < at,
    )
