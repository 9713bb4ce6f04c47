"""Threads: create (with first messages), read, modify, delete (with everything in them)."""

from __future__ import annotations

from typing import Any

from assistantd.clock import now
from assistantd.ids import new_id
from assistantd.objects import messages
from assistantd.objects.thread_lock import find_thread, lock_thread
from assistantd.objects.thread_store import IngestionJob
from assistantd.objects.tool_resources import (
    check_references,
    create_helper_stores,
    tool_resources_to_wire,
)
from assistantd.store import documents
from assistantd.store.blobs import BlobStore
from assistantd.store.sessions import AsyncSession, Transaction
from assistantd.store.tables import Message, Run, RunStep, Thread
from assistantd.wire.threads import CreateThread, ModifyThread


async def create(
    session: Transaction,
    tenant: str,
    body: CreateThread,
    blobs: BlobStore,
    jobs: list[IngestionJob],
    param: str = "",
) -> dict[str, Any]:
    """``param``: where the thread is in the request (``thread`` in create thread and run)."""
    await check_references(session, tenant, body.tool_resources, f"{param}." if param else "")
    created_at = now()
    data = {
        "id": new_id("thread_"),
        "object": "thread",
        "created_at": created_at,
        "tool_resources": tool_resources_to_wire(
            await create_helper_stores(session, tenant, body.tool_resources)
        ),
        "metadata": body.metadata or {},
    }
    await documents.add(
        session, Thread, id=data["id"], tenant=tenant, created_at=created_at, data=data
    )
    for index, message in enumerate(body.messages):
        where = f"{param}.messages[{index}]" if param else f"messages[{index}]"
        await messages.insert(session, tenant, data["id"], message, blobs, jobs, where)
    if any(message.attachments for message in body.messages):
        # A file_search attachment may have given the thread its vector store.
        return (await find_thread(session, tenant, data["id"])).data
    return data


async def get(session: AsyncSession, tenant: str, thread_id: str) -> dict[str, Any]:
    return (await find_thread(session, tenant, thread_id)).data


async def modify(
    session: AsyncSession, tenant: str, thread_id: str, body: ModifyThread
) -> dict[str, Any]:
    row = await lock_thread(session, tenant, thread_id)
    data = dict(row.data)
    if body.tool_resources is not None:
        await check_references(session, tenant, body.tool_resources)
        data["tool_resources"] = tool_resources_to_wire(body.tool_resources, data["tool_resources"])
    if body.metadata is not None:
        data["metadata"] = body.metadata
    documents.replace_data(row, data)
    return data


async def delete(session: AsyncSession, tenant: str, thread_id: str) -> dict[str, Any]:
    row = await lock_thread(session, tenant, thread_id)
    for table in (RunStep, Run, Message):
        await documents.remove_where(session, table, tenant=tenant, thread_id=thread_id)
    await documents.remove(session, row)
    return {"id": thread_id, "object": "thread.deleted", "deleted": True}
