"""Queries on the ``files`` table beyond the generic ones of ``documents``: a file is gone for
every purpose once it has expired (``expires_at`` is the first second it is gone), also before
the expiry sweep deletes it, so every read here takes the time it is made at."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store import documents
from assistantd.store.documents import Page, PageRequest
from assistantd.store.file_tables import File


async def live_file_data(
    session: AsyncSession, tenant: str, file_id: str, at: int
) -> dict[str, Any] | None:
    """The file's wire object, unless it is missing or expired at ``at``."""
    query = select(File.data).where(File.tenant == tenant, File.id == file_id, _live(at))
    return (await session.execute(query)).scalar_one_or_none()


async def live_files_data(
    session: AsyncSession, tenant: str, file_ids: Iterable[str], at: int
) -> list[dict[str, Any]]:
    """The wire objects of the files among ``file_ids`` that are live at ``at``."""
    query = select(File.data).where(File.tenant == tenant, File.id.in_(set(file_ids)), _live(at))
    return list((await session.execute(query)).scalars())


async def lock_live_file(session: AsyncSession, tenant: str, file_id: str, at: int) -> File | None:
    """The file's row, locked until the transaction ends, unless it is missing or expired."""
    query = select(File).where(File.tenant == tenant, File.id == file_id, _live(at))
    return (await session.execute(query.with_for_update())).scalar_one_or_none()


async def expired_file_keys(session: AsyncSession, at: int, limit: int) -> list[tuple[str, str]]:
    """``(tenant, file_id)`` of up to ``limit`` files expired at ``at``, across all tenants, the
    longest expired first."""
    query = (
        select(File.tenant, File.id)
        .where(File.expires_at <= at)
        .order_by(File.expires_at, File.seq)
        .limit(limit)
    )
    return [(tenant, file_id) for tenant, file_id in await session.execute(query)]


async def lock_expired_file(
    session: AsyncSession, tenant: str, file_id: str, at: int
) -> File | None:
    """The row of a file expired at ``at``, locked; None when it is gone or another transaction
    holds its lock (skipped, not waited for)."""
    query = select(File).where(File.tenant == tenant, File.id == file_id, File.expires_at <= at)
    return (await session.execute(query.with_for_update(skip_locked=True))).scalar_one_or_none()


async def live_files_page(
    session: AsyncSession, tenant: str, request: PageRequest, purpose: str | None, at: int
) -> Page:
    """One page of the files live at ``at`` (of ``purpose``, unless None)."""
    return await documents.page(session, File, tenant, request, where=_live(at), purpose=purpose)


def _live(at: int) -> ColumnElement[bool]:
    return or_(File.expires_at.is_(None), File.expires_at > at)
