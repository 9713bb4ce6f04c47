"""``/v1/threads``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.file_services import Blobs, Ingestion, write_indexing_attachments
from assistantd.objects import threads
from assistantd.wire.threads import CreateThread, ModifyThread

router = APIRouter(prefix="/threads")


@router.post("")
async def create_thread(
    tenant: Tenant,
    db: Db,
    blobs: Blobs,
    ingestion: Ingestion,
    body: Annotated[CreateThread | None, Body()] = None,
) -> dict[str, Any]:
    async with write_indexing_attachments(db, ingestion) as session:
        return await threads.create(session, tenant, body or CreateThread(), blobs)


@router.get("/{thread_id}")
async def get_thread(thread_id: str, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.read() as session:
        return await threads.get(session, tenant, thread_id)


@router.post("/{thread_id}")
async def modify_thread(
    thread_id: str, body: ModifyThread, tenant: Tenant, db: Db
) -> dict[str, Any]:
    async with db.write() as session:
        return await threads.modify(session, tenant, thread_id, body)


@router.delete("/{thread_id}")
async def delete_thread(thread_id: str, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.write() as session:
        return await threads.delete(session, tenant, thread_id)
