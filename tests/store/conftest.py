"""A migrated database of each backend for the store's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistantd.store.database import Database
from tests.harness.databases import open_database


@pytest.fixture
async def db(backend: str, tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(backend, tmp_path) as database:
        yield database
