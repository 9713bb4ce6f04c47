"""Databases the tests run against: a fresh SQLite file, or a fresh PostgreSQL database.

PostgreSQL comes from ``ASSISTANTD_TEST_POSTGRES_URL`` (default: the local server, trust auth).
Where none is reachable, the PostgreSQL tests skip and say why. ``pgvector`` is a PostgreSQL
with the ``vector`` extension (``tests/harness/pgvector.py``), where the chunk index is shared.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg

from assistantd.store.database import Database
from tests.harness import pgvector

POSTGRES_URL = os.environ.get(
    "ASSISTANTD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")


def postgres_unavailable_reason() -> str | None:
    async def probe() -> None:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as error:  # any failure means: no PostgreSQL here
        return f"PostgreSQL not reachable at {POSTGRES_URL} ({type(error).__name__}: {error})"
    return None


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'assistantd.sqlite3'}"
        return
    name = f"assistantd_test_{uuid.uuid4().hex[:12]}"
    admin = pgvector.admin_url() if backend == "pgvector" else POSTGRES_URL
    asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    if backend == "pgvector":
        url = pgvector.database_url(name)
    else:
        url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url.replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def unavailable_reason(backend: str) -> str | None:
    """Why ``backend`` cannot be had here, or None."""
    if backend == "postgresql":
        return postgres_unavailable_reason()
    if backend == "pgvector":
        return pgvector.unavailable_reason()
    return None


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@asynccontextmanager
async def open_database(
    backend: str, directory: Path, *, migrate: bool = True
) -> AsyncIterator[Database]:
    """A ``Database`` on a fresh database of ``backend`` (migrated unless told not to), closed
    and removed afterwards. ``fresh_database`` runs its own event loop for PostgreSQL's admin
    work: it is entered and left off the caller's loop."""
    manager = fresh_database(backend, directory)
    database = Database(await asyncio.to_thread(manager.__enter__))
    try:
        if migrate:
            await database.migrate()
        yield database
    finally:
        await database.dispose()
        await asyncio.to_thread(manager.__exit__, None, None, None)
