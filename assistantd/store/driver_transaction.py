"""A PostgreSQL write transaction on the asyncpg connection itself: what
``Database.write(orm=False)`` yields there, for blocks that read and write only by hand-written
statements (the run engine's).

No ORM session, no SQLAlchemy connection or transaction around the driver's: a run's claim (lock
and save) cost ~1.0 ms of CPU through a session, ~0.4 here. And fewer round trips:

* A write whose rows nobody reads (``driver_sql.execute``) waits, as the ORM's unit of work
  does, for the block's next statement or its end, and the writes waiting then go as one
  statement, each but the last in a data-modifying ``WITH`` clause: a turn's end writes its
  message, its step and its run in one round trip, not three. The parts of one statement see one
  snapshot, so a write to a table that a waiting write changes goes in a statement of its own.
* ``BEGIN`` is sent before the block's first statement that returns rows and locks or writes
  them: a block that only writes sends its one statement alone, a transaction by itself; reads
  before it go alone too (creating a thread and run: the assistant's read, then thread, message
  and run in one statement; two round trips).

    async with db.write(orm=False) as transaction:
        run = await run_rows.lock_run(transaction, run_id)   # BEGIN, SELECT … FOR UPDATE
        await run_rows.save_run(transaction, run)           # waits: sent with the COMMIT
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistantd.store.driver_sql import (
    Statement,
    joined,
    joined_params,
    sqlalchemy_error,
    written_table,
)


class DriverTransaction:
    """``connection``: the asyncpg connection; ``adapter``: SQLAlchemy's adapter of it, whose
    error translation makes the driver's errors SQLAlchemy's (``IntegrityError`` …), as
    callers catch them through a session."""

    is_sqlite = False  # asyncpg's: PostgreSQL only

    def __init__(self, connection: Any, adapter: Any) -> None:
        self._connection = connection
        self._adapter = adapter
        self._begun = False
        self._waiting: list[tuple[Statement, dict[str, Any]]] = []  # encoded arguments by name

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        if not self._begun and not self._waiting and _plain_read(statement):
            # Nothing written or locked yet: under READ COMMITTED the read sees what it would
            # see as the transaction's first statement, so it goes alone, without BEGIN.
            return await self._run(statement.postgresql[0], statement.asyncpg_args(params))
        await self._begin()
        await self._send_waiting()
        return await self._run(statement.postgresql[0], statement.asyncpg_args(params))

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        table = written_table(statement.sql)
        if table is None:  # not a write: nothing to gain by waiting
            await self.fetch(statement, params)
            return
        if any(written_table(waiting.sql) == table for waiting, _ in self._waiting):
            await self._begin()
            await self._send_waiting()
        # Encoded now: a document the caller changes after this call is written as it was.
        arguments = dict(zip(statement.postgresql[1], statement.asyncpg_args(params), strict=True))
        self._waiting.append((statement, arguments))

    async def commit(self) -> None:
        await self._send_waiting()  # not begun: one statement, its own transaction
        if self._begun:
            await self._run("COMMIT", [])

    async def rollback(self) -> None:
        self._waiting.clear()
        if self._begun:
            await self._run("ROLLBACK", [])

    async def _begin(self) -> None:
        if not self._begun:
            await self._run("BEGIN", [])
            self._begun = True

    async def _send_waiting(self) -> None:
        if not self._waiting:
            return
        waiting, self._waiting = self._waiting, []
        sql, names = joined(tuple(statement for statement, _ in waiting)).postgresql
        arguments = joined_params(*(by_name for _, by_name in waiting))
        await self._run(sql, [arguments[name] for name in names])  # encoded already

    async def _run(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        try:
            rows = await self._connection.fetch(sql, *args)
        except Exception as error:
            raise sqlalchemy_error(self._adapter, sql, args, error) from error
        return [tuple(row) for row in rows]


def _plain_read(statement: Statement) -> bool:
    """A read that takes no lock (nor writes: ``INSERT … RETURNING`` is a write)."""
    return not statement.lock and written_table(statement.sql) is None
