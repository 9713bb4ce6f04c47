"""The ``usage_minutes`` rows themselves: one busy minute of a project and model is spread over
slots on PostgreSQL only, whichever kind of transaction adds to it; retention deletes the minutes
before its cutoff in batches, oldest first, each once however many processes sweep together."""

from __future__ import annotations

import asyncio
import time

import pytest

from assistantd.store import retention, usage
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


MINUTES = Statement("SELECT DISTINCT minute FROM usage_minutes ORDER BY minute")


async def _minutes(db: Database) -> list[int]:
    return [minute for (minute,) in await db.read_rows(MINUTES, {})]


async def test_usage_minutes_before_the_cutoff_are_deleted_in_batches_oldest_first(
    db: Database,
) -> None:
    cutoff = 1_000_000 * 60
    for n in range(25):
        await usage.add_alone(db, usage.EMBEDDINGS, "t1", "m", cutoff - (25 - n) * 60, TOKENS)
    await usage.add_alone(db, usage.EMBEDDINGS, "t1", "m", cutoff, TOKENS)  # not before it
    await usage.add_alone(db, usage.COMPLETIONS, "t2", "m", cutoff + 59, TOKENS)

    assert await retention.delete_old_usage(db, cutoff, 10) == 10
    assert await _minutes(db) == [cutoff - (15 - n) * 60 for n in range(15)] + [cutoff]
    assert [await retention.delete_old_usage(db, cutoff, 10) for _ in range(3)] == [10, 5, 0]
    assert await _minutes(db) == [cutoff]


async def test_processes_deleting_usage_together_delete_each_row_once(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite has one process")
    cutoff = 1_000_000 * 60
    await db.write_rows(
        Statement(
            "INSERT INTO usage_minutes SELECT :cutoff - 60 * m, 'completions', 't1', 'm', s,"
            " 1, 0, 1, 1 FROM generate_series(1, 200) m, generate_series(0, 15) s"
            " RETURNING minute"
        ),
        {"cutoff": cutoff},
    )
    other = Database(db.url)

    async def sweep(process: Database) -> list[int]:
        batches = []
        while batch := await retention.delete_old_usage(process, cutoff, 50):
            batches.append(batch)
        return batches

    try:
        one, two = await asyncio.gather(sweep(db), sweep(other))
    finally:
        await other.dispose()
    assert sum(one) + sum(two) == 200 * 16
    assert one and two  # both took part
    assert await _minutes(db) == []
