"""``/v1/assistants``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.pagination import ListParams
from assistantd.objects import assistants
from assistantd.wire.assistants import CreateAssistant, ModifyAssistant

router = APIRouter(prefix="/assistants")


@router.post("")
async def create_assistant(body: CreateAssistant, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.write() as session:
        return await assistants.create(session, tenant, body)


@router.get("")
async def list_assistants(tenant: Tenant, db: Db, params: ListParams) -> dict[str, Any]:
    async with db.read() as session:
        return (await assistants.list_page(session, tenant, params)).envelope()


@router.get("/{assistant_id}")
async def get_assistant(assistant_id: str, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.read() as session:
        return await assistants.get(session, tenant, assistant_id)


@router.post("/{assistant_id}")
async def modify_assistant(
    assistant_id: str, body: ModifyAssistant, tenant: Tenant, db: Db
) -> dict[str, Any]:
    async with db.write() as session:
        return await assistants.modify(session, tenant, assistant_id, body)


@router.delete("/{assistant_id}")
async def delete_assistant(assistant_id: str, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.write() as session:
        return await assistants.delete(session, tenant, assistant_id)
