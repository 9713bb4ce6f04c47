"""Queries on an upload's parts (the ``upload_parts`` table)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store.file_tables import UploadPart


async def received_bytes(session: AsyncSession, tenant: str, upload_id: str) -> int:
    """How many bytes the upload's parts hold together."""
    query = select(func.coalesce(func.sum(UploadPart.bytes), 0)).where(
        UploadPart.tenant == tenant, UploadPart.upload_id == upload_id
    )
    return int((await session.execute(query)).scalar_one())


async def part_sizes(session: AsyncSession, tenant: str, upload_id: str) -> dict[str, int]:
    """The size of each of the upload's parts, by part id."""
    query = select(UploadPart.id, UploadPart.bytes).where(
        UploadPart.tenant == tenant, UploadPart.upload_id == upload_id
    )
    return dict((await session.execute(query)).tuples().all())


async def upload_part_ids(session: AsyncSession, tenant: str, upload_id: str) -> list[str]:
    query = select(UploadPart.id).where(
        UploadPart.tenant == tenant, UploadPart.upload_id == upload_id
    )
    return list((await session.execute(query)).scalars())
