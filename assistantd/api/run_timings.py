"""``GET /v1/threads/{thread_id}/runs/{run_id}/timings``: where a run's time went, in ms
(beyond OpenAI's API; the run object itself is left as OpenAI has it). See
``observability/run_timings.py`` for what each figure measures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.objects import runs
from assistantd.observability import run_timings

# Mounted by ``api/runs.py`` under its ``/threads`` prefix.
router = APIRouter()


@router.get("/{thread_id}/runs/{run_id}/timings")
async def timings(thread_id: str, run_id: str, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.read() as session:
        row = await runs.get_row(session, tenant, thread_id, run_id)
        return run_timings.report(row.engine, row.data)
