"""The PostgreSQL run queue's claimer stops when asked, even when a wake-up (a run handed back
on shutdown notifies every claimer, this one too) lands in the same instant as the stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistantd.runs.postgres_queue import PostgresRunQueue
from assistantd.store.database import Database
from assistantd.store.run_leases import Lease
from tests.harness.databases import open_database

# Far beyond the test's wait: a claimer that missed its stop would sleep this long, then claim on.
SWEEP_SECONDS = 3600.0
STOP_WITHIN_SECONDS = 20.0  # only a hang guard: a stop takes milliseconds


@pytest.fixture
async def db(tmp_path: Path, postgres_skip_reason: str | None) -> AsyncIterator[Database]:
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    async with open_database("postgresql", tmp_path) as database:
        yield database


async def test_a_wake_up_arriving_with_the_stop_does_not_keep_the_claimer_running(
    db: Database,
) -> None:
    queue = PostgresRunQueue(db, Lease.for_this_process(30), SWEEP_SECONDS)
    await queue.start(lambda _run_id: None, execute=True)
    await asyncio.sleep(0.2)  # the claimer has claimed nothing and waits for a wake-up
    queue.wake()
    await asyncio.wait_for(queue.stop(), STOP_WITHIN_SECONDS)
