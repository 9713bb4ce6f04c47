"""Migration 0004: files uploaded before it keep the expiry they were given (their wire object's
``expires_at`` fills the new column), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from assistantd.store.database import Database
from assistantd.store.file_tables import File
from assistantd.store.migrate import alembic_config
from assistantd.store.tables import DocumentType
from tests.harness.databases import fresh_database

# The files table as revision 0003 made it.
FILES_0003 = sa.table(
    "files",
    sa.column("id"),
    sa.column("tenant"),
    sa.column("created_at"),
    sa.column("purpose"),
    sa.column("data", DocumentType),
)
EXPIRES_AT = 4_102_444_800  # 2100-01-01: past what a 32-bit integer holds


def _file(file_id: str, **extra: int) -> dict[str, object]:
    data = {"id": file_id, "object": "file", "bytes": 1, "created_at": 1, **extra}
    return {"id": file_id, "tenant": "t", "created_at": 1, "purpose": "batch", "data": data}


async def _migrate_files_made_at_0003(url: str) -> dict[str, int | None]:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "0003"))
        await connection.execute(
            FILES_0003.insert(),
            [_file("file-expiring", expires_at=EXPIRES_AT), _file("file-kept")],
        )
    await engine.dispose()
    db = Database(url)
    await db.migrate()
    async with db.read() as session:
        rows = await session.execute(sa.select(File.id, File.expires_at))
    await db.dispose()
    return dict(rows.tuples().all())


def test_files_keep_their_expiry_across_the_migration(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        migrated = asyncio.run(_migrate_files_made_at_0003(url))
    assert migrated == {"file-expiring": EXPIRES_AT, "file-kept": None}
