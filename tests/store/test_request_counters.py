"""Rate-limit request counters shared by processes: two ``Database`` objects (two processes'
pools) on one database, or two clients of one Redis, counting the same window together lose
no request under concurrency."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from assistantd.store.database import Database
from assistantd.store.request_counters import DatabaseCounter, RedisCounter, RequestCounter
from tests.harness.redis_server import REDIS_URL, redis_unavailable_reason


async def _count_together(counters: list[RequestCounter], each: int) -> list[int]:
    project = f"proj_{uuid.uuid4().hex[:8]}"
    calls = [c.count(project, "gpt-x", 600) for c in counters for _ in range(each)]
    return sorted(await asyncio.gather(*calls))


async def test_database_counter_counts_every_request_of_every_process(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite has one process; the database counter is PostgreSQL's")
    other = Database(db.url)
    try:
        counts = await _count_together([DatabaseCounter(db), DatabaseCounter(other)], 20)
    finally:
        await other.dispose()
    assert counts == list(range(1, 41))


async def test_database_counter_forgets_old_windows(db: Database) -> None:
    counter = DatabaseCounter(db)
    assert await counter.count("proj_a", "m", 60) == 1
    assert await counter.count("proj_a", "m", 60) == 2
    assert await counter.count("proj_a", "m", 180) == 1  # a new window starts at 1
    assert await counter.count("proj_a", "m", 60) == 1  # two windows back: forgotten


async def test_redis_counter_counts_every_request_of_every_process() -> None:
    if reason := redis_unavailable_reason():
        pytest.skip(reason)
    counters = [RedisCounter(REDIS_URL), RedisCounter(REDIS_URL)]
    try:
        assert await _count_together(counters, 20) == list(range(1, 41))
    finally:
        for counter in counters:
            await counter.close()


async def test_every_counter_adds_amounts_and_reads_with_zero(db: Database) -> None:
    from assistantd.store.request_counters import InProcessCounter

    counters: list[RequestCounter] = [InProcessCounter(), DatabaseCounter(db)]
    if not redis_unavailable_reason():
        counters.append(RedisCounter(REDIS_URL))
    for counter in counters:
        project = f"proj_{uuid.uuid4().hex[:8]}"
        assert await counter.add(project, "m\x1ftokens", 600, 0) == 0
        assert await counter.add(project, "m\x1ftokens", 600, 25) == 25
        assert await counter.add(project, "m\x1ftokens", 600, 7) == 32
        assert await counter.add(project, "m\x1ftokens", 600, 0) == 32
        assert await counter.count(project, "m", 600) == 1  # requests are counted apart
        await counter.close()
