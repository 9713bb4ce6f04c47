"""The ``usage_minutes`` rows themselves: one busy minute of a project and model is spread over
slots on PostgreSQL only, whichever kind of transaction adds to it."""

from __future__ import annotations

import time

from assistantd.store import usage
from assistantd.store.database import Database
from assistantd.store.driver_sql import Statement

ROWS = Statement(
    "SELECT count(*), sum(requests) FROM usage_minutes WHERE tenant = :tenant AND model = :model"
)
TOKENS = usage.Tokens(input=3, output=2)


async def test_a_busy_minute_is_spread_over_slots_on_postgresql_only(db: Database) -> None:
    at = time.time() // 60 * 60
    for _ in range(20):  # a run's turn: a write of hand-written statements
        await usage.add_alone(db, usage.COMPLETIONS, "t1", "m", at, TOKENS)
    for _ in range(20):  # in an ORM session's transaction (on PostgreSQL too)
        async with db.write() as session:
            await usage.add(session, usage.COMPLETIONS, "t1", "m", at, TOKENS)
    rows, requests = await db.read_row(ROWS, {"tenant": "t1", "model": "m"}) or (0, 0)
    assert requests == 40
    if db.is_sqlite:
        assert rows == 1  # one writer: no row to queue on
    else:
        assert 1 < rows <= usage.SLOTS  # 40 writes all in one of 16 slots: odds of 16 ** -39
