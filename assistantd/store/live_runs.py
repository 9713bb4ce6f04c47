"""Runs not yet at an end, across every tenant, for the admin (``GET /v1/organization/runs``):
newest first, each with its project's id."""

from __future__ import annotations

from typing import Any

from assistantd.store.database import Database
from assistantd.store.driver_sql import Statement

# Always four statuses (a shorter choice repeats one): the list stays one named statement.
STATUS_PARAMS = ("s0", "s1", "s2", "s3")
_COLUMNS = ("data", "project_id")
_LIVE = (
    "SELECT r.data, p.id FROM runs r LEFT JOIN projects p ON p.tenant = r.tenant"
    " WHERE r.status IN (:s0, :s1, :s2, :s3){after} ORDER BY r.seq DESC LIMIT :limit"
)
LIVE_RUNS = Statement(_LIVE.format(after=""), json_columns=("data",), result_columns=_COLUMNS)
LIVE_RUNS_AFTER = Statement(
    _LIVE.format(after=" AND r.seq < (SELECT seq FROM runs WHERE id = :after)"),
    json_columns=("data",),
    result_columns=_COLUMNS,
)


async def live_runs(
    db: Database, statuses: tuple[str, ...], limit: int, after: str | None
) -> list[tuple[dict[str, Any], str | None]]:
    """Up to ``limit`` runs in one of ``statuses`` (1 to 4), older than run ``after`` if given:
    (the run object, its project's id)."""
    chosen = [statuses[min(i, len(statuses) - 1)] for i in range(len(STATUS_PARAMS))]
    params: dict[str, Any] = dict(zip(STATUS_PARAMS, chosen, strict=True))
    params["limit"] = limit
    if after is None:
        return [tuple(row) for row in await db.read_rows(LIVE_RUNS, params)]  # type: ignore[misc]
    params["after"] = after
    return [tuple(row) for row in await db.read_rows(LIVE_RUNS_AFTER, params)]  # type: ignore[misc]
