"""Per-project rate limits (``project_rate_limits``), the request counters kept in the database
when no Redis is configured (``rate_limit_windows``), and the tokens a project's runs used."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store.database import Database
from assistantd.store.driver_sql import Statement, execute, fetch

LIMIT_COLUMNS = "model, max_requests_per_1_minute, max_tokens_per_1_minute"
LIMITS = Statement(
    f"SELECT {LIMIT_COLUMNS} FROM project_rate_limits WHERE project_id = :project_id ORDER BY model"
)
LIMIT = Statement(
    f"SELECT {LIMIT_COLUMNS} FROM project_rate_limits"
    " WHERE project_id = :project_id AND model = :model"
)
SET_LIMIT = Statement(
    "INSERT INTO project_rate_limits"
    " (project_id, model, max_requests_per_1_minute, max_tokens_per_1_minute)"
    " VALUES (:project_id, :model, :requests, :tokens)"
    " ON CONFLICT (project_id, model) DO UPDATE SET"
    " max_requests_per_1_minute = excluded.max_requests_per_1_minute,"
    " max_tokens_per_1_minute = excluded.max_tokens_per_1_minute"
)

# One request more in the project's window for the model; the count after it. Atomic on both
# databases (a row lock on PostgreSQL, the single writer on SQLite), so processes sharing the
# database count together.
COUNT_REQUEST = Statement(
    "INSERT INTO rate_limit_windows (project_id, model, window_start, requests)"
    " VALUES (:project_id, :model, :window_start, 1)"
    " ON CONFLICT (project_id, model, window_start) DO UPDATE SET"
    " requests = rate_limit_windows.requests + 1"
    " RETURNING requests"
)
# The same, adding any amount (the tokens of pass-through model calls; 0 only reads).
ADD_TO_WINDOW = Statement(
    "INSERT INTO rate_limit_windows (project_id, model, window_start, requests)"
    " VALUES (:project_id, :model, :window_start, :amount)"
    " ON CONFLICT (project_id, model, window_start) DO UPDATE SET"
    " requests = rate_limit_windows.requests + :amount"
    " RETURNING requests"
)
FORGET_WINDOWS = Statement("DELETE FROM rate_limit_windows WHERE window_start < :before")

# Tokens the tenant's runs of a model created since ``since`` used so far (a run still going
# counts what it used until now), and the oldest such run's creation.
_RUN_TOKENS = (
    "SELECT coalesce(sum({tokens}), 0), min(created_at) FROM runs"
    " WHERE tenant = :tenant AND created_at >= :since AND {model} = :model"
)
RUN_TOKENS_SQLITE = Statement(
    _RUN_TOKENS.format(
        tokens="coalesce(json_extract(engine, '$.usage.prompt_tokens'), 0)"
        " + coalesce(json_extract(engine, '$.usage.completion_tokens'), 0)",
        model="json_extract(data, '$.model')",
    )
)
RUN_TOKENS_POSTGRESQL = Statement(
    _RUN_TOKENS.format(
        tokens="coalesce((engine->'usage'->>'prompt_tokens')::bigint, 0)"
        " + coalesce((engine->'usage'->>'completion_tokens')::bigint, 0)",
        model="data->>'model'",
    )
)


async def set_limit(
    session: AsyncSession, project_id: str, model: str, requests: int | None, tokens: int | None
) -> None:
    params = {"project_id": project_id, "model": model, "requests": requests, "tokens": tokens}
    await execute(session, SET_LIMIT, params)


async def count_request(db: Database, project_id: str, model: str, window_start: int) -> int:
    async with db.write(orm=False) as session:
        params = {"project_id": project_id, "model": model, "window_start": window_start}
        rows = await fetch(session, COUNT_REQUEST, params)
    return int(rows[0][0])


async def add_to_window(
    db: Database, project_id: str, model: str, window_start: int, amount: int
) -> int:
    async with db.write(orm=False) as session:
        params = {
            "project_id": project_id, "model": model, "window_start": window_start,
            "amount": amount,
        }  # fmt: skip
        rows = await fetch(session, ADD_TO_WINDOW, params)
    return int(rows[0][0])


async def forget_windows(db: Database, before: int) -> None:
    async with db.write(orm=False) as session:
        await execute(session, FORGET_WINDOWS, {"before": before})


async def run_tokens(db: Database, tenant: str, model: str, since: int) -> tuple[int, int | None]:
    """(tokens used, the oldest counted run's ``created_at``)."""
    statement = RUN_TOKENS_SQLITE if db.is_sqlite else RUN_TOKENS_POSTGRESQL
    row = await db.read_row(statement, {"tenant": tenant, "model": model, "since": since})
    if row is None:
        return 0, None
    return int(row[0] or 0), row[1]
