"""The run engine's writes (``write(orm=False)`` blocks of ``run_rows`` calls) on either
database: all or nothing, each read in the block sees the block's earlier writes, the last of
two writes to a row wins, and a document is stored as it was when it was written. (On
PostgreSQL such writes wait to go together in one statement: these are the guarantees that must
not change with it.)"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from assistantd.store import run_leases, run_rows
from assistantd.store.database import Database
from assistantd.store.run_leases import Lease
from assistantd.store.tables import Run
from assistantd.store.unlocked_write import NeedsLock, UnlockedWrite


class AfterTheWrites(Exception):
    pass


def _object(object_id: str, **data: Any) -> dict[str, Any]:
    base = {"id": object_id, "created_at": 0, "thread_id": "thread_a", "run_id": "run_a"}
    return {**base, "status": "in_progress", **data}


async def _steps(db: Database) -> list[dict[str, Any]]:
    async with db.write(orm=False) as session:
        return await run_rows.run_objects(session, "run_steps", "t", "run_a")


async def _messages(db: Database) -> list[dict[str, Any]]:
    async with db.write(orm=False) as session:
        return await run_rows.run_objects(session, "messages", "t", "run_a")


async def test_a_block_that_fails_writes_nothing(db: Database) -> None:
    async with db.write(orm=False) as session:
        await run_rows.insert_step(session, "t", _object("step_1"))
    with pytest.raises(AfterTheWrites):
        async with db.write(orm=False) as session:
            await run_rows.insert_step(session, "t", _object("step_2"))
            await run_rows.replace(session, "run_steps", "t", _object("step_1", status="failed"))
            await run_rows.insert_message(session, "t", _object("msg_1"))
            raise AfterTheWrites
    assert await _steps(db) == [_object("step_1")]
    assert await _messages(db) == []


async def test_a_failing_write_undoes_the_blocks_other_writes(db: Database) -> None:
    """A step id taken twice: the block fails with the ORM's IntegrityError (at the latest when
    it ends) and its first writes are gone too."""
    async with db.write(orm=False) as session:
        await run_rows.insert_step(session, "t", _object("step_1"))
    with pytest.raises(IntegrityError):
        async with db.write(orm=False) as session:
            await run_rows.replace(session, "run_steps", "t", _object("step_1", status="failed"))
            await run_rows.insert_message(session, "t", _object("msg_1"))
            await run_rows.insert_step(session, "t", _object("step_1"))
    assert await _steps(db) == [_object("step_1")]
    assert await _messages(db) == []


async def test_a_read_sees_the_blocks_earlier_writes(db: Database) -> None:
    async with db.write(orm=False) as session:
        await run_rows.insert_step(session, "t", _object("step_1"))
        await run_rows.insert_step(session, "t", _object("step_2"))
        assert [
            s["id"] for s in await run_rows.run_objects(session, "run_steps", "t", "run_a")
        ] == [
            "step_1",
            "step_2",
        ]
        await run_rows.replace(session, "run_steps", "t", _object("step_2", status="completed"))
        seen = await run_rows.run_objects(session, "run_steps", "t", "run_a")
        assert [s["status"] for s in seen] == ["in_progress", "completed"]


async def test_the_last_of_two_writes_to_a_row_wins(db: Database) -> None:
    async with db.write(orm=False) as session:
        await run_rows.insert_step(session, "t", _object("step_1"))
        await run_rows.replace(session, "run_steps", "t", _object("step_1", status="completed"))
        await run_rows.replace(session, "run_steps", "t", _object("step_1", status="cancelled"))
    assert await _steps(db) == [_object("step_1", status="cancelled")]


async def test_a_document_is_stored_as_it_was_written(db: Database) -> None:
    """The caller may go on changing a document it has written: the write keeps what it had."""
    step = _object("step_1")
    async with db.write(orm=False) as session:
        await run_rows.insert_step(session, "t", step)
        step["status"] = "changed afterwards"
    assert await _steps(db) == [_object("step_1")]


async def test_a_turns_message_opens_with_its_step(db: Database) -> None:
    seq = await run_rows.open_message(db, "t", _object("msg_1"), _object("step_1"))
    assert await _messages(db) == [_object("msg_1")]
    assert await _steps(db) == [_object("step_1")]
    messages, _ = await run_rows.thread_history(db, "t", "thread_a")
    assert messages == [(seq, _object("msg_1"))]
    with pytest.raises(IntegrityError):  # the message id is taken: the step is not written
        await run_rows.open_message(db, "t", _object("msg_1"), _object("step_2"))
    assert await _steps(db) == [_object("step_1")]


async def _add_run(db: Database) -> None:
    async with db.write() as session:
        session.add(
            Run(
                id="run_a", tenant="t", created_at=0, thread_id="thread_a", status="in_progress",
                data={"id": "run_a", "status": "in_progress"}, engine={"usage": None},
                claimed_by="worker", lease_expires_at=None, expires_at=None,
            )
        )  # fmt: skip


async def _unlocked_change(db: Database, run: run_rows.RunRecord, status: str) -> bool:
    """The run's status changed to ``status`` and a step completed, unless the run changed."""
    writes = UnlockedWrite()
    await run_rows.replace(writes, "run_steps", "t", _object("step_1", status="completed"))
    run.status, run.data = status, {**run.data, "status": status}
    return await run_rows.save_run_unless_changed(db, writes, run)


async def test_a_run_unchanged_since_read_is_saved_with_its_writes(db: Database) -> None:
    """PostgreSQL: a run read without a lock is saved, with the writes that go with it, in one
    statement, while nobody has changed it since; and again from the version that save made."""
    if db.is_sqlite:
        assert await run_rows.read_run(db, "run_a") is None  # saved under the lock there
        return
    await _add_run(db)
    async with db.write(orm=False) as session:
        await run_rows.insert_step(session, "t", _object("step_1"))
    run = await run_rows.read_run(db, "run_a")
    assert run is not None and run.version is not None
    assert await _unlocked_change(db, run, "requires_action")
    assert await _steps(db) == [_object("step_1", status="completed")]
    assert await _unlocked_change(db, run, "completed")  # from the version the save made
    stored = await run_rows.read_run(db, "run_a")
    assert stored is not None and stored.status == "completed"
    assert stored.data == {"id": "run_a", "status": "completed"}


async def test_a_run_changed_since_read_is_not_saved_nor_its_writes(db: Database) -> None:
    if db.is_sqlite:
        return
    await _add_run(db)
    async with db.write(orm=False) as session:
        await run_rows.insert_step(session, "t", _object("step_1"))
    run = await run_rows.read_run(db, "run_a")
    assert run is not None
    async with db.write(orm=False) as session:  # a cancel, say, meanwhile
        locked = await run_rows.lock_run(session, "run_a")
        assert locked is not None
        locked.status, locked.data = "cancelling", {**locked.data, "status": "cancelling"}
        await run_rows.save_run(session, locked)
    assert not await _unlocked_change(db, run, "completed")
    assert await _steps(db) == [_object("step_1")]
    stored = await run_rows.read_run(db, "run_a")
    assert stored is not None and stored.status == "cancelling"


async def test_an_unlocked_write_that_must_read_asks_for_the_lock(db: Database) -> None:
    writes = UnlockedWrite()
    with pytest.raises(NeedsLock):
        await run_rows.run_objects(writes, "run_steps", "t", "run_a")


@pytest.mark.parametrize(("left", "renewed"), [(7.5, False), (3.0, True)])
async def test_a_heartbeat_renews_only_the_leases_due(
    db: Database, left: float, renewed: bool
) -> None:
    """A lease taken within the last half beat is left as it is (so the run's version stays
    the one its executor saved); one that would lapse before the beat after next is renewed."""
    await _add_run(db)
    async with db.write(orm=False) as session:
        run = await run_rows.lock_run(session, "run_a")
        assert run is not None
        run.lease_expires_at = time.time() + left
        await run_rows.save_run(session, run)
    lease = Lease("worker", 8.0)
    held = await run_leases.renew(db, lease, interval=8.0 / 3)
    assert held == ([("run_a", "in_progress")] if renewed else [])
    async with db.write(orm=False) as session:
        stored = await run_rows.lock_run(session, "run_a")
    assert stored is not None and stored.lease_expires_at is not None
    assert (stored.lease_expires_at > time.time() + 7.5) is renewed
