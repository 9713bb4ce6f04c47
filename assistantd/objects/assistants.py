"""Assistants: create, read, modify, delete, list."""

from __future__ import annotations

from typing import Any

from assistantd.clock import now
from assistantd.errors import NotFound
from assistantd.ids import new_id
from assistantd.objects.tool_resources import (
    check_references,
    create_helper_stores,
    tool_resources_to_wire,
)
from assistantd.store import documents
from assistantd.store.documents import Page, PageRequest
from assistantd.store.sessions import AsyncSession, Transaction
from assistantd.store.tables import Assistant
from assistantd.wire.assistants import CreateAssistant, ModifyAssistant
from assistantd.wire.tools import response_format_to_wire, tool_to_wire

KIND = "assistant"


async def create(session: AsyncSession, tenant: str, body: CreateAssistant) -> dict[str, Any]:
    await check_references(session, tenant, body.tool_resources)
    created_at = now()
    data = {
        "id": new_id("asst_"),
        "object": "assistant",
        "created_at": created_at,
        "name": body.name,
        "description": body.description,
        "model": body.model,
        "instructions": body.instructions,
        "tools": [tool_to_wire(tool) for tool in body.tools],
        "tool_resources": tool_resources_to_wire(
            await create_helper_stores(session, tenant, body.tool_resources)
        ),
        "metadata": body.metadata or {},
        "temperature": 1.0 if body.temperature is None else body.temperature,
        "top_p": 1.0 if body.top_p is None else body.top_p,
        "response_format": response_format_to_wire(body.response_format),
    }
    await documents.add(
        session, Assistant, id=data["id"], tenant=tenant, created_at=created_at, data=data
    )
    return data


async def get(session: Transaction, tenant: str, assistant_id: str) -> dict[str, Any]:
    data = await documents.fetch_data(session, Assistant, tenant, assistant_id)
    if data is None:
        raise NotFound.object(KIND, assistant_id)
    return data


async def modify(
    session: AsyncSession, tenant: str, assistant_id: str, body: ModifyAssistant
) -> dict[str, Any]:
    row = await documents.fetch_for_update(session, Assistant, tenant, assistant_id)
    if row is None:
        raise NotFound.object(KIND, assistant_id)
    data = dict(row.data)
    given = body.given()
    for field in ("name", "description", "instructions"):
        if field in given:
            data[field] = getattr(body, field)
    for field in ("model", "temperature", "top_p"):
        if getattr(body, field) is not None:
            data[field] = getattr(body, field)
    if body.tools is not None:
        data["tools"] = [tool_to_wire(tool) for tool in body.tools]
    if body.tool_resources is not None:
        await check_references(session, tenant, body.tool_resources)
        data["tool_resources"] = tool_resources_to_wire(body.tool_resources, data["tool_resources"])
    if body.metadata is not None:
        data["metadata"] = body.metadata
    if body.response_format is not None:
        data["response_format"] = response_format_to_wire(body.response_format)
    documents.replace_data(row, data)
    return data


async def delete(session: AsyncSession, tenant: str, assistant_id: str) -> dict[str, Any]:
    row = await documents.fetch(session, Assistant, tenant, assistant_id)
    if row is None:
        raise NotFound.object(KIND, assistant_id)
    await documents.remove(session, row)
    return {"id": assistant_id, "object": "assistant.deleted", "deleted": True}


async def list_page(session: AsyncSession, tenant: str, request: PageRequest) -> Page:
    return await documents.page(session, Assistant, tenant, request)
