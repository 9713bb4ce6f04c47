"""Hand-written statements: ``:name`` parameters as asyncpg numbers them; on either database
they run in the session's transaction and fail with SQLAlchemy's errors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from assistantd.store import documents
from assistantd.store.database import Database
from assistantd.store.driver_sql import numbered_parameters
from assistantd.store.tables import Thread


def test_names_become_numbers_in_order_of_first_use() -> None:
    sql = "SELECT a FROM t WHERE id = :id AND tenant = :tenant OR parent = :id"
    assert numbered_parameters(sql) == (
        "SELECT a FROM t WHERE id = $1 AND tenant = $2 OR parent = $1",
        ("id", "tenant"),
    )


def test_casts_and_times_are_not_parameters() -> None:
    sql = "SELECT data::text, '12:30' FROM t WHERE id = :id"
    assert numbered_parameters(sql) == ("SELECT data::text, '12:30' FROM t WHERE id = $1", ("id",))


# --- on a database: the statements share the session's transaction and its errors ----------


def _thread(thread_id: str) -> dict[str, object]:
    return {"id": thread_id, "tenant": "t", "created_at": 0, "data": {"id": thread_id}}


async def _stored(db: Database, thread_id: str) -> dict[str, Any] | None:
    async with db.read() as session:
        return await documents.fetch_data(session, Thread, "t", thread_id)


async def test_a_constraint_violation_is_sqlalchemys_integrity_error(db: Database) -> None:
    """Callers catch ``IntegrityError`` (a second active run on a thread): a hand-written
    statement raises it as the ORM would, and its transaction leaves nothing."""
    async with db.write(orm=False) as session:
        await documents.add(session, Thread, **_thread("thread_a"))
    with pytest.raises(IntegrityError):
        async with db.write(orm=False) as session:
            await documents.add(session, Thread, **_thread("thread_b"))
            await documents.add(session, Thread, **_thread("thread_a"))
    assert await _stored(db, "thread_b") is None
    assert await _stored(db, "thread_a") == {"id": "thread_a"}


@pytest.mark.parametrize("commit", [True, False], ids=["committed", "rolled-back"])
async def test_statements_and_the_orm_share_one_transaction(db: Database, commit: bool) -> None:
    """A hand-written statement before and after the ORM's own, in one session: all are
    committed together, or none is (each transaction of the session finds its connection)."""
    for round_ in range(2):  # the second transaction of a session may have another connection
        try:
            async with db.write() as session:
                await documents.add(session, Thread, **_thread(f"thread_{round_}_driver"))
                session.add(Thread(**_thread(f"thread_{round_}_orm")))  # the ORM's own write
                await session.flush()
                assert await documents.fetch_data(session, Thread, "t", f"thread_{round_}_orm") == {
                    "id": f"thread_{round_}_orm"
                }
                if not commit:
                    raise LookupError
        except LookupError:
            pass
        for kind in ("driver", "orm"):
            stored = await _stored(db, f"thread_{round_}_{kind}")
            assert (stored is not None) == commit
