"""A migrated database of each backend for the store's tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistantd.store.database import Database
from tests.harness.databases import fresh_database


@pytest.fixture
async def db(backend: str, tmp_path: Path) -> AsyncIterator[Database]:
    # fresh_database runs its own event loop for PostgreSQL's admin work: off this loop.
    manager = fresh_database(backend, tmp_path)
    database = Database(await asyncio.to_thread(manager.__enter__))
    try:
        await database.migrate()
        yield database
    finally:
        await database.dispose()
        await asyncio.to_thread(manager.__exit__, None, None, None)
