"""Messages: create, read, modify (metadata), delete, list."""

from __future__ import annotations

from typing import Any

from assistantd.clock import now
from assistantd.errors import InvalidRequest, NotFound
from assistantd.ids import new_id
from assistantd.objects import files, message_images
from assistantd.objects.thread_lock import find_thread, lock_thread
from assistantd.objects.thread_store import IngestionJob, attach_to_thread_store
from assistantd.store import documents
from assistantd.store.blobs import BlobStore
from assistantd.store.documents import Page, PageRequest
from assistantd.store.runs import active_run_id
from assistantd.store.sessions import AsyncSession, Transaction
from assistantd.store.tables import Message
from assistantd.wire.messages import (
    CreateMessage,
    ModifyMessage,
    attachments_to_wire,
    content_to_wire,
)

KIND = "message"


async def create(
    session: AsyncSession,
    tenant: str,
    thread_id: str,
    body: CreateMessage,
    blobs: BlobStore,
    jobs: list[IngestionJob],
) -> dict[str, Any]:
    """A message added through the API; refused while a run holds the thread."""
    await lock_thread(session, tenant, thread_id)
    run_id = await active_run_id(session, tenant, thread_id)
    if run_id is not None:
        raise InvalidRequest(
            f"Can't add messages to {thread_id} while a run {run_id} is active.", None
        )
    return await insert(session, tenant, thread_id, body, blobs, jobs)


async def insert(
    session: Transaction,
    tenant: str,
    thread_id: str,
    body: CreateMessage,
    blobs: BlobStore,
    jobs: list[IngestionJob],
    param: str = "",
) -> dict[str, Any]:
    """Write a completed message without checks of the thread (the caller holds it); its
    file_search attachments go into the thread's vector store. ``param``: where the message is
    in the request (``messages[0]``, …; empty when it is the request), for errors."""
    where = f"{param}." if param else ""
    for position, attachment in enumerate(body.attachments or []):
        # Another tenant's (or no) file: 404, as the hosted API answered, whatever the tools.
        await files.get(
            session, tenant, attachment.file_id, f"{where}attachments[{position}].file_id"
        )
    content = content_to_wire(body.content)
    await message_images.check(
        session, blobs, tenant, content, f"{param}.content" if param else "content"
    )
    created_at = now()
    data = {
        "id": new_id("msg_"),
        "object": "thread.message",
        "created_at": created_at,
        "thread_id": thread_id,
        "status": "completed",
        "incomplete_details": None,
        "completed_at": created_at,
        "incomplete_at": None,
        "role": body.role,
        "content": content,
        "assistant_id": None,
        "run_id": None,
        "attachments": attachments_to_wire(body.attachments) or [],
        "metadata": body.metadata or {},
    }
    await documents.add(
        session,
        Message,
        id=data["id"],
        tenant=tenant,
        created_at=created_at,
        thread_id=thread_id,
        run_id=None,
        data=data,
    )
    await attach_to_thread_store(session, tenant, thread_id, data["attachments"], jobs)
    return data


async def get_row(
    session: AsyncSession, tenant: str, thread_id: str, message_id: str, lock: bool = False
) -> Message:
    fetch = documents.fetch_for_update if lock else documents.fetch
    row = await fetch(session, Message, tenant, message_id, thread_id=thread_id)
    if row is None:
        raise NotFound.object(KIND, message_id)
    return row


async def get(
    session: AsyncSession, tenant: str, thread_id: str, message_id: str
) -> dict[str, Any]:
    return (await get_row(session, tenant, thread_id, message_id)).data


async def modify(
    session: AsyncSession, tenant: str, thread_id: str, message_id: str, body: ModifyMessage
) -> dict[str, Any]:
    # Locked: the engine may be completing this message; a stale read written back would undo it.
    row = await get_row(session, tenant, thread_id, message_id, lock=True)
    data = dict(row.data)
    if body.metadata is not None:
        data["metadata"] = body.metadata
    documents.replace_data(row, data)
    return data


async def delete(
    session: AsyncSession, tenant: str, thread_id: str, message_id: str
) -> dict[str, Any]:
    row = await get_row(session, tenant, thread_id, message_id)
    await documents.remove(session, row)
    return {"id": message_id, "object": "thread.message.deleted", "deleted": True}


async def list_page(
    session: AsyncSession, tenant: str, thread_id: str, request: PageRequest, run_id: str | None
) -> Page:
    await find_thread(session, tenant, thread_id)
    return await documents.page(
        session, Message, tenant, request, thread_id=thread_id, run_id=run_id
    )
