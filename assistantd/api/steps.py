"""``/v1/threads/{thread_id}/runs/{run_id}/steps``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.pagination import ListParams
from assistantd.api.runs import Include, poll_after
from assistantd.objects import steps

router = APIRouter(
    prefix="/threads/{thread_id}/runs/{run_id}/steps", dependencies=[Depends(poll_after)]
)


@router.get("")
async def list_steps(
    thread_id: str, run_id: str, tenant: Tenant, db: Db, params: ListParams, include: Include = None
) -> dict[str, Any]:
    included = steps.check_include(include)
    async with db.read() as session:
        page = await steps.list_page(session, tenant, thread_id, run_id, params, included)
        return page.envelope()


@router.get("/{step_id}")
async def get_step(
    thread_id: str, run_id: str, step_id: str, tenant: Tenant, db: Db, include: Include = None
) -> dict[str, Any]:
    included = steps.check_include(include)
    async with db.read() as session:
        return await steps.get(session, tenant, thread_id, run_id, step_id, included)
