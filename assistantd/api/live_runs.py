"""``GET /v1/organization/runs``: the runs not yet ended across every project, newest first,
each the run object plus its ``project_id``. An assistantd extension under the admin namespace
(OpenAI has no such list), opened only by ``ASSISTANTD_ADMIN_KEY``.

Query: ``status`` (repeatable; ``queued``, ``in_progress``, ``requires_action``,
``cancelling``; default all of them), ``limit`` 1–100 (default 20), ``after`` (a run id)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from assistantd.api.auth import Admin
from assistantd.api.database import Db
from assistantd.objects import live_runs

router = APIRouter(prefix="/organization/runs", dependencies=[Admin])


@router.get("")
async def list_live_runs(
    db: Db,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    after: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    statuses = live_runs.statuses_of(status or [])
    return (await live_runs.page(db, statuses, limit, after)).envelope()
