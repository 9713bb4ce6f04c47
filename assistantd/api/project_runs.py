"""``GET /v1/runs``: the project's runs across all its threads, newest first, paged as every
list (beyond OpenAI's API, which lists runs per thread; the console's run list reads it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.pagination import ListParams
from assistantd.objects import runs

router = APIRouter()


@router.get("/runs")
async def list_project_runs(tenant: Tenant, db: Db, params: ListParams) -> dict[str, Any]:
    async with db.read() as session:
        return (await runs.project_page(session, tenant, params)).envelope()
