"""``/v1/threads/{thread_id}/messages``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.file_services import Blobs, Ingestion, write_indexing_attachments
from assistantd.api.pagination import ListParams
from assistantd.objects import messages
from assistantd.wire.messages import CreateMessage, ModifyMessage

router = APIRouter(prefix="/threads/{thread_id}/messages")


@router.post("")
async def create_message(
    thread_id: str,
    body: CreateMessage,
    tenant: Tenant,
    db: Db,
    blobs: Blobs,
    ingestion: Ingestion,
) -> dict[str, Any]:
    async with write_indexing_attachments(db, ingestion) as (session, jobs):
        return await messages.create(session, tenant, thread_id, body, blobs, jobs)


@router.get("")
async def list_messages(
    thread_id: str, tenant: Tenant, db: Db, params: ListParams, run_id: str | None = None
) -> dict[str, Any]:
    async with db.read() as session:
        page = await messages.list_page(session, tenant, thread_id, params, run_id)
        return page.envelope()


@router.get("/{message_id}")
async def get_message(thread_id: str, message_id: str, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.read() as session:
        return await messages.get(session, tenant, thread_id, message_id)


@router.post("/{message_id}")
async def modify_message(
    thread_id: str, message_id: str, body: ModifyMessage, tenant: Tenant, db: Db
) -> dict[str, Any]:
    async with db.write() as session:
        return await messages.modify(session, tenant, thread_id, message_id, body)


@router.delete("/{message_id}")
async def delete_message(thread_id: str, message_id: str, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.write() as session:
        return await messages.delete(session, tenant, thread_id, message_id)
