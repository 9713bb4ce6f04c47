"""A write that fails leaves nothing behind, on both databases: whether the failure comes after
the insert (in the caller) or from a document the database cannot hold. And text the model or a
tool produced with NUL in it is stored (NUL replaced), never failing the write."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import StatementError

from assistantd.store import documents
from assistantd.store.database import Database
from assistantd.store.driver_sql import Statement
from assistantd.store.tables import Assistant, Thread

# The encoder's TypeError, as is or wrapped by SQLAlchemy around the statement it was for.
UNENCODABLE = (TypeError, StatementError)


class AfterTheInsert(Exception):
    pass


async def _count(db: Database, table: str, object_id: str) -> int:
    row = await db.read_row(
        Statement(f"SELECT count(*) FROM {table} WHERE id = :id"), {"id": object_id}
    )
    assert row is not None
    return int(row[0])


def _assistant(object_id: str, **data: object) -> dict[str, object]:
    document = {"id": object_id, "object": "assistant", **data}
    return {"id": object_id, "tenant": "t", "created_at": 0, "data": document}


@pytest.mark.parametrize("orm", [True, False], ids=["orm", "plain"])
async def test_a_failure_after_the_insert_writes_nothing(db: Database, orm: bool) -> None:
    with pytest.raises(AfterTheInsert):
        async with db.write(orm) as session:
            data = {"id": "thread_a", "object": "thread"}
            await documents.add(session, Thread, id="thread_a", tenant="t", created_at=0, data=data)
            raise AfterTheInsert
    with pytest.raises(AfterTheInsert):
        async with db.write() as session:
            await documents.add(session, Assistant, **_assistant("asst_a"))
            raise AfterTheInsert
    assert await _count(db, "threads", "thread_a") == 0
    assert await _count(db, "assistants", "asst_a") == 0


async def test_a_document_no_database_can_hold_is_not_written(db: Database) -> None:
    """A lone surrogate cannot be encoded as UTF-8: the write fails inside its transaction (on
    SQLite the ORM's JSON encoder used to escape it, commit it, and every later read of the
    tenant's list failed on it)."""
    with pytest.raises(UNENCODABLE):
        async with db.write() as session:
            await documents.add(session, Assistant, **_assistant("asst_s", name="\ud800"))
    with pytest.raises(UNENCODABLE):
        async with db.write() as session:
            data = {"id": "thread_s", "metadata": {"k": "\udfff"}}
            await documents.add(session, Thread, id="thread_s", tenant="t", created_at=0, data=data)
    assert await _count(db, "assistants", "asst_s") == 0
    assert await _count(db, "threads", "thread_s") == 0


@pytest.mark.parametrize("orm", [True, False], ids=["orm", "plain"])
async def test_nul_in_produced_text_is_stored_replaced(db: Database, orm: bool) -> None:
    text = "before\x00after \\u0000 stays"  # the second is a backslash and "u0000": text
    async with db.write(orm) as session:
        data = {"id": "thread_n", "output": text, "nested": [{"k\x00": text}]}
        await documents.add(session, Thread, id="thread_n", tenant="t", created_at=0, data=data)
    async with db.write() as session:
        await documents.add(session, Assistant, **_assistant("asst_n", name=text))
    async with db.read() as session:
        thread = await documents.fetch_data(session, Thread, "t", "thread_n")
        assistant = await documents.fetch_data(session, Assistant, "t", "asst_n")
    stored = "before\ufffdafter \\u0000 stays"
    assert thread is not None and assistant is not None
    assert thread["output"] == stored
    assert thread["nested"] == [{"k\ufffd": stored}]
    assert assistant["name"] == stored
