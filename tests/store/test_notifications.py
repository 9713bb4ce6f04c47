"""PostgreSQL notifications (the run queue's wake-ups and cancels): each payload reaches every
listener, in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from assistantd.store.database import Database
from tests.harness.databases import open_database


@pytest.fixture
async def db(tmp_path: Path, postgres_skip_reason: str | None) -> AsyncIterator[Database]:
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    async with open_database("postgresql", tmp_path, migrate=False) as database:
        yield database


async def test_every_payload_reaches_every_listener_in_order(db: Database) -> None:
    heard: dict[str, list[str]] = {"a": [], "b": []}
    arrived = asyncio.Event()

    def hear(name: str) -> Callable[[str], None]:
        def on_payload(payload: str) -> None:
            heard[name].append(payload)
            if all(len(payloads) == 3 for payloads in heard.values()):
                arrived.set()

        return on_payload

    listeners = [await db.listen({"assistantd_test": hear(name)}) for name in heard]
    try:
        await db.notify("assistantd_test", "run_1", "run_2")
        await db.notify("assistantd_test", "run_3")
        await asyncio.wait_for(arrived.wait(), 30)
    finally:
        for listener in listeners:
            await listener.close()
    assert heard == {"a": ["run_1", "run_2", "run_3"], "b": ["run_1", "run_2", "run_3"]}
