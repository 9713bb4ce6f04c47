"""``/v1/threads``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.file_services import Blobs, Ingestion, write_indexing_attachments
from assistantd.objects import threads
from assistantd.tools.code_interpreter import CodeSessions
from assistantd.tools.code_interpreter.tool import thread_session_key
from assistantd.wire.threads import CreateThread, ModifyThread

router = APIRouter(prefix="/threads")


async def code_sessions(request: Request) -> CodeSessions:
    return request.app.state.code_sessions


CodeSessionsDep = Annotated[CodeSessions, Depends(code_sessions)]


@router.post("")
async def create_thread(
    tenant: Tenant,
    db: Db,
    blobs: Blobs,
    ingestion: Ingestion,
    body: Annotated[CreateThread | None, Body()] = None,
) -> dict[str, Any]:
    async with write_indexing_attachments(db, ingestion) as (session, jobs):
        return await threads.create(session, tenant, body or CreateThread(), blobs, jobs)


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
async def delete_thread(
    thread_id: str, tenant: Tenant, db: Db, sessions: CodeSessionsDep
) -> dict[str, Any]:
    async with db.write() as session:
        deleted = await threads.delete(session, tenant, thread_id)
    # Only once the delete has committed (a failed one changes nothing): the thread's Python
    # session and its /mnt/data go with it instead of lingering until the idle reaper. This
    # waits for a call still running in it (bounded by the execution timeout).
    await sessions.close(thread_session_key(tenant, thread_id))
    return deleted
