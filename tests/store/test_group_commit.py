"""SQLite group commit: writers that queue up share one COMMIT, each is answered only once its
changes are committed, and one writer's error undoes only its own changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from assistantd.store import documents
from assistantd.store.database import Database
from assistantd.store.driver_sql import Statement
from assistantd.store.tables import Thread

COMMITTED = Statement("SELECT count(*) FROM threads WHERE id = :id")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}")
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture(params=[True, False], ids=["orm-savepoint", "plain-savepoint"])
def orm(request: pytest.FixtureRequest) -> bool:
    """Each writer in an ORM savepoint, or (``orm=False``, the run engine's) a plain one."""
    return request.param


async def _add_thread(db: Database, thread_id: str, orm: bool = True) -> int:
    """Insert a thread; returns how many rows another connection sees once the write returned."""
    async with db.write(orm) as session:
        data = {"id": thread_id, "object": "thread", "created_at": 0}
        await documents.add(session, Thread, id=thread_id, tenant="t", created_at=0, data=data)
        await asyncio.sleep(0)  # let the other writers queue up behind this one
    return await _committed(db, thread_id)


async def _committed(db: Database, thread_id: str) -> int:
    """How many rows with this id another connection sees."""
    row = await db.read_row(COMMITTED, {"id": thread_id})
    assert row is not None
    return int(row[0])


async def test_concurrent_writers_share_commits_and_return_only_once_committed(
    db: Database, orm: bool
) -> None:
    commits: list[None] = []
    event.listen(db._writer.sync_engine, "commit", lambda _connection: commits.append(None))
    seen = await asyncio.gather(*(_add_thread(db, f"thread_{n}", orm) for n in range(50)))
    assert seen == [1] * 50  # every writer's row was committed before its write returned
    assert 1 <= len(commits) < 50  # the queued writers shared commits


async def test_a_failing_writer_undoes_only_its_own_changes(db: Database, orm: bool) -> None:
    async def failing() -> None:
        async with db.write(orm) as session:
            data = {"id": "thread_bad", "object": "thread", "created_at": 0}
            await documents.add(
                session, Thread, id="thread_bad", tenant="t", created_at=0, data=data
            )
            await asyncio.sleep(0)
            raise RuntimeError("refused")

    outcomes = await asyncio.gather(
        _add_thread(db, "thread_a", orm),
        failing(),
        _add_thread(db, "thread_b", orm),
        return_exceptions=True,
    )
    assert outcomes[0] == 1 and outcomes[2] == 1
    assert isinstance(outcomes[1], RuntimeError)
    assert await _committed(db, "thread_bad") == 0


async def test_a_unique_violation_in_one_writer_leaves_the_batch_intact(
    db: Database, orm: bool
) -> None:
    """As two run creates racing on a thread: the loser's INSERT fails, the winner's stays."""
    outcomes = await asyncio.gather(
        _add_thread(db, "thread_same", orm),
        _add_thread(db, "thread_same", orm),
        return_exceptions=True,
    )
    assert outcomes.count(1) == 1
    assert sum(isinstance(o, IntegrityError) for o in outcomes) == 1
    assert await _committed(db, "thread_same") == 1


async def test_orm_changes_in_a_plain_savepoint_writer_are_still_written(db: Database) -> None:
    async with db.write(orm=False) as session:
        data = {"id": "thread_orm", "object": "thread", "created_at": 0}
        session.add(Thread(id="thread_orm", tenant="t", created_at=0, data=data))
    assert await _committed(db, "thread_orm") == 1
