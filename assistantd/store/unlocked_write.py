"""Writes gathered without a transaction, to go with a run's save in one statement if the run has
not changed since it was read (``run_rows.save_run_unless_changed``, PostgreSQL).

The run engine's usual change of a run — a turn's end: its message, its step and the run — is
a lock and a save: BEGIN, SELECT … FOR UPDATE, the writes, COMMIT, four round trips. The
executor already knows the run as it last saved it, and nobody else changes a run while it
executes but for a cancel, an expiry or a metadata update. So it writes the change as if to a
transaction, into an ``UnlockedWrite``, which keeps the writes and sends nothing; the save then
sends them with the run's UPDATE, all conditional on the run's row being the version read, in
one statement: one round trip. A change that needs to read (closing a run's open work reads
its messages and steps) raises ``NeedsLock``; a save that finds the run changed does nothing.
Either way the caller does the change again under the lock.

    writes = UnlockedWrite()
    await run_rows.replace(writes, "messages", tenant, message)
    if not await run_rows.save_run_unless_changed(db, writes, run):
        ...  # lock_run, the same change, save_run
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assistantd.store.driver_sql import Statement


class NeedsLock(Exception):
    """The change reads the database: it is to be made under the run's lock."""


class UnlockedWrite:
    """The writes of a change, kept to be sent with the run's save. Each ``(statement,
    params)`` is an ``UPDATE … WHERE id = :id …`` of a row other than the run's, or an
    ``INSERT … VALUES (…)`` (``driver_sql.guarded``)."""

    is_sqlite = False  # a run's save unless changed: PostgreSQL only

    def __init__(self) -> None:
        self.writes: list[tuple[Statement, dict[str, Any]]] = []

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        raise NeedsLock(statement.sql)

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> None:
        # Encoded now, as a DriverTransaction does: a document the caller changes after this
        # call is written as it was.
        names, values = statement.postgresql[1], statement.asyncpg_args(params)
        self.writes.append((statement, dict(zip(names, values, strict=True))))
