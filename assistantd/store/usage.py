"""Model usage per tenant, model and minute (``usage_minutes``): added to where a model call's
tokens are known, summed into buckets for the Usage API."""

from __future__ import annotations

import random
from dataclasses import dataclass

from assistantd.store.database import Database
from assistantd.store.driver_sql import Statement, Transaction, execute

COMPLETIONS = "completions"
EMBEDDINGS = "embeddings"
# Rows one busy minute of a project and model is spread over on PostgreSQL (see migration
# 0012): with one row, 100 concurrent writers managed ~150-170 commits/s on this machine (each
# waits for the row lock its predecessor holds until its commit); with 4 to 32 rows, 450-1300/s,
# too noisy to tell apart, against 1100-1500/s without the write. SQLite's one writer never
# waits on a row, so it keeps one.
SLOTS = 16

ADD = Statement(
    "INSERT INTO usage_minutes (minute, kind, tenant, model, slot, input_tokens,"
    " input_cached_tokens, output_tokens, requests)"
    " VALUES (:minute, :kind, :tenant, :model, :slot, :input, :cached, :output, 1)"
    " ON CONFLICT (minute, kind, tenant, model, slot) DO UPDATE SET"
    " input_tokens = usage_minutes.input_tokens + excluded.input_tokens,"
    " input_cached_tokens = usage_minutes.input_cached_tokens + excluded.input_cached_tokens,"
    " output_tokens = usage_minutes.output_tokens + excluded.output_tokens,"
    " requests = usage_minutes.requests + 1"
)

# Sums per bucket (``width`` seconds from ``start``, both multiples of 60), project and model
# over [start, end). A tenant without a project (none is made for it) shows as project null.
BUCKETED = Statement(
    "SELECT :start + ((u.minute - :start) / :width) * :width AS bucket, p.id, u.model,"
    " sum(u.input_tokens), sum(u.input_cached_tokens), sum(u.output_tokens), sum(u.requests)"
    " FROM usage_minutes u LEFT JOIN projects p ON p.tenant = u.tenant"
    " WHERE u.kind = :kind AND u.minute >= :start AND u.minute < :end"
    " GROUP BY bucket, p.id, u.model ORDER BY bucket"
)


@dataclass(frozen=True)
class Tokens:
    input: int
    output: int
    cached: int = 0


@dataclass(frozen=True)
class UsageRow:
    bucket: int
    project_id: str | None
    model: str
    input_tokens: int
    input_cached_tokens: int
    output_tokens: int
    requests: int


async def add(
    session: Transaction, kind: str, tenant: str, model: str, at: float, tokens: Tokens
) -> None:
    """One model request and its tokens, in the caller's transaction."""
    params = {
        "minute": int(at) // 60 * 60, "kind": kind, "tenant": tenant, "model": model,
        "slot": random.randrange(_slots(session)), "input": tokens.input, "cached": tokens.cached,
        "output": tokens.output,
    }  # fmt: skip
    await execute(session, ADD, params)


def _slots(session: Transaction) -> int:
    return 1 if session.is_sqlite else SLOTS


async def add_alone(
    db: Database, kind: str, tenant: str, model: str, at: float, tokens: Tokens
) -> None:
    """``add`` in a transaction of its own."""
    async with db.write(orm=False) as session:
        await add(session, kind, tenant, model, at, tokens)


async def bucketed(db: Database, kind: str, start: int, end: int, width: int) -> list[UsageRow]:
    params = {"kind": kind, "start": start, "end": end, "width": width}
    rows = await db.read_rows(BUCKETED, params)
    return [UsageRow(*(int(v) if i not in (1, 2) else v for i, v in enumerate(r))) for r in rows]
