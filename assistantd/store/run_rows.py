"""The rows a run's life changes, by hand-written statements (``driver_sql``): lock and save a
run (the one way any layer changes a stored run: the requests that cancel or answer it, the
executor, expiry and recovery), add and update its messages and steps, read a thread's history.
Each call runs in the caller's transaction (an ORM session's, or a ``DriverTransaction``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistantd.store.database import Database
from assistantd.store.driver_sql import (
    Statement,
    Transaction,
    encode_json,
    execute,
    fetch,
    guarded,
    joined,
    joined_params,
    written_table,
)
from assistantd.store.unlocked_write import UnlockedWrite


@dataclass(slots=True)
class RunRecord:
    """A run's row, locked for the transaction that read it; change it, then ``save_run`` it."""

    id: str
    tenant: str
    thread_id: str
    status: str
    data: dict[str, Any]
    engine: dict[str, Any] | None
    claimed_by: str | None
    lease_expires_at: float | None
    expires_at: int | None
    # PostgreSQL: the row's version (its ``xmin``, which every write to the row changes) as this
    # record was read or last saved unlocked; None when it is not known (SQLite, a locked read).
    version: int | None = None


RUN_COLUMNS = (
    "tenant",
    "thread_id",
    "status",
    "data",
    "engine",
    "claimed_by",
    "lease_expires_at",
    "expires_at",
)
_LOCK_RUN = Statement(
    f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE id = :id",
    json_columns=("data", "engine"),
    result_columns=RUN_COLUMNS,
    lock=True,
)
_SAVE_RUN = Statement(
    "UPDATE runs SET status = :status, data = :data, engine = :engine, claimed_by = :claimed_by,"
    " lease_expires_at = :lease_expires_at, expires_at = :expires_at WHERE id = :id",
    json_params=("data", "engine"),
)
# PostgreSQL only (``xmin``: the transaction that wrote the row's current version). The run as
# it is, unlocked, to be saved unless it changes meanwhile: the same UPDATE as ``_SAVE_RUN``,
# applied only to the version read.
_READ_RUN = Statement(
    f"SELECT {', '.join(RUN_COLUMNS)}, xmin FROM runs WHERE id = :id",
    json_columns=("data", "engine"),
    result_columns=(*RUN_COLUMNS, "version"),
)
_SAVE_RUN_UNLESS_CHANGED = Statement(
    _SAVE_RUN.sql + " AND xmin = :version RETURNING xmin", result_columns=("version",)
)
_REPLACE = {
    table: Statement(
        f"UPDATE {table} SET data = :data WHERE id = :id AND tenant = :tenant",
        json_params=("data",),
    )
    for table in ("messages", "run_steps")
}
_REPLACE_STEP = Statement(
    "UPDATE run_steps SET data = :data, engine = :engine WHERE id = :id AND tenant = :tenant",
    json_params=("data", "engine"),
)
_OBJECT_COLUMNS = ("id", "tenant", "created_at", "thread_id", "run_id", "data")
_STEP_COLUMNS = (*_OBJECT_COLUMNS, "message_seq", "engine")


def _insert(table: str, columns: tuple[str, ...], returning: str = "") -> str:
    names, values = ", ".join(columns), ", ".join(f":{name}" for name in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({values}){returning}"


_INSERT_MESSAGE = Statement(
    _insert("messages", _OBJECT_COLUMNS, " RETURNING seq"),
    json_params=("data",),
    result_columns=("seq",),
)
# No RETURNING: nobody needs a step's seq, and so, in a DriverTransaction, the INSERT may wait
# to go with the block's next statement.
_INSERT_STEP = Statement(_insert("run_steps", _STEP_COLUMNS), json_params=("data", "engine"))
# A turn's message and its message_creation step in one statement (PostgreSQL): one round trip,
# a transaction by itself.
_OPEN_MESSAGE = joined((_INSERT_STEP, _INSERT_MESSAGE))
_RUN_OBJECTS = {
    table: Statement(
        f"SELECT data FROM {table} WHERE tenant = :tenant AND run_id = :run_id ORDER BY seq",
        json_columns=("data",),
        result_columns=("data",),
    )
    for table in ("messages", "run_steps")
}
_DELETE = {
    table: Statement(f"DELETE FROM {table} WHERE id = :id AND tenant = :tenant")
    for table in ("messages", "run_steps")
}
# A thread's history in one statement, so that it is one snapshot without a transaction: its
# messages (kind 0) and its tool-call steps (kind 1), each kind in order.
_THREAD_HISTORY = Statement(
    "SELECT 0, seq, NULL, data FROM messages WHERE tenant = :tenant AND thread_id = :thread_id"
    " UNION ALL SELECT 1, seq, message_seq, engine FROM run_steps"
    " WHERE tenant = :tenant AND thread_id = :thread_id AND engine IS NOT NULL"
    " ORDER BY 1, 2",
    json_columns=("document",),
    result_columns=("kind", "seq", "message_seq", "document"),
)


async def lock_run(
    session: Transaction, run_id: str, *, tenant: str | None = None, thread_id: str | None = None
) -> RunRecord | None:
    """The run, locked until the transaction ends; None if there is none (in ``tenant``'s
    ``thread_id``, where given)."""
    rows = await fetch(session, _LOCK_RUN, {"id": run_id})
    if not rows:
        return None
    run = RunRecord(run_id, *rows[0])
    if tenant is not None and run.tenant != tenant:
        return None
    if thread_id is not None and run.thread_id != thread_id:
        return None
    return run


async def save_run(session: Transaction, run: RunRecord) -> None:
    params = {name: getattr(run, name) for name in RUN_COLUMNS if name not in ("tenant",)}
    await execute(session, _SAVE_RUN, {**params, "id": run.id})


async def read_run(db: Database, run_id: str) -> RunRecord | None:
    """The run as it is now, not locked, with its version, to change and then save with
    ``save_run_unless_changed``; None if there is none. None on SQLite too: there a lock costs
    nothing (one writer at a time, in this process), and runs are changed under it."""
    if db.is_sqlite:
        return None
    rows = await db.read_rows(_READ_RUN, {"id": run_id})
    return RunRecord(run_id, *rows[0]) if rows else None


async def save_run_unless_changed(db: Database, writes: UnlockedWrite, run: RunRecord) -> bool:
    """Save ``run`` and ``writes`` in one statement, a transaction by itself, if the run's row
    is still the version ``run`` was read (or last saved) as; then ``run.version`` is the new
    one. False: nothing was written (changed meanwhile, or unknown version, or two writes to
    one row, which one statement cannot make): make the change again under ``lock_run``."""
    # The rows updated (an INSERT's row is new): one statement can change each only once.
    rows = [(written_table(s.sql), args["id"]) for s, args in writes.writes if "id" in args]
    if run.version is None or len(set(rows)) < len(rows) or ("runs", run.id) in rows:
        return False
    save = {name: getattr(run, name) for name in RUN_COLUMNS if name != "tenant"}
    save = {**save, "data": encode_json(run.data), "engine": encode_json(run.engine)}
    statement = guarded(_SAVE_RUN_UNLESS_CHANGED, tuple(s for s, _ in writes.writes))
    params = joined_params(
        {**save, "id": run.id, "version": run.version}, *(a for _, a in writes.writes)
    )
    saved = await db.write_rows(statement, params)
    if not saved:
        return False
    run.version = saved[0][0]
    return True


async def insert_message(session: Transaction, tenant: str, data: dict[str, Any]) -> int:
    """Insert an assistant message; returns its seq (its place in the thread)."""
    return (await fetch(session, _INSERT_MESSAGE, _run_object_columns(tenant, data)))[0][0]


async def open_message(
    db: Database, tenant: str, message: dict[str, Any], step: dict[str, Any]
) -> int:
    """Insert a turn's assistant message and its message_creation step, together, in a
    transaction of their own; returns the message's seq."""
    if db.is_sqlite:  # no INSERT in a WITH clause: the two statements in one write
        async with db.write(orm=False) as session:
            seq = await insert_message(session, tenant, message)
            await insert_step(session, tenant, step)
        return seq
    params = joined_params(_step_columns(tenant, step), _run_object_columns(tenant, message))
    return (await db.write_rows(_OPEN_MESSAGE, params))[0][0]


async def insert_step(
    session: Transaction,
    tenant: str,
    data: dict[str, Any],
    *,
    message_seq: int | None = None,
    engine: dict[str, Any] | None = None,
) -> None:
    await execute(session, _INSERT_STEP, _step_columns(tenant, data, message_seq, engine))


def _step_columns(
    tenant: str,
    data: dict[str, Any],
    message_seq: int | None = None,
    engine: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {**_run_object_columns(tenant, data), "message_seq": message_seq, "engine": engine}


def _run_object_columns(tenant: str, data: dict[str, Any]) -> dict[str, Any]:
    """The columns a run's message or step row takes from its wire object."""
    return {
        "id": data["id"],
        "tenant": tenant,
        "created_at": data["created_at"],
        "thread_id": data["thread_id"],
        "run_id": data["run_id"],
        "data": data,
    }


async def replace(session: Transaction, table: str, tenant: str, data: dict[str, Any]) -> None:
    """Store a message's or step's new version (``table``: ``messages`` or ``run_steps``)."""
    await execute(session, _REPLACE[table], {"id": data["id"], "tenant": tenant, "data": data})


async def replace_step(
    session: Transaction, tenant: str, data: dict[str, Any], engine: dict[str, Any]
) -> None:
    """Store a tool-call step's new version with the calls as the model saw them."""
    params = {"id": data["id"], "tenant": tenant, "data": data, "engine": engine}
    await execute(session, _REPLACE_STEP, params)


async def run_objects(session: Transaction, table: str, tenant: str, run_id: str) -> list[dict]:
    """The run's messages or steps (``table``), oldest first."""
    rows = await fetch(session, _RUN_OBJECTS[table], {"tenant": tenant, "run_id": run_id})
    return [data for (data,) in rows]


async def delete(session: Transaction, table: str, tenant: str, object_id: str) -> None:
    await execute(session, _DELETE[table], {"id": object_id, "tenant": tenant})


async def thread_history(
    db: Database, tenant: str, thread_id: str
) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, int | None, dict[str, Any]]]]:
    """The thread's messages ``(seq, data)`` and its tool-call steps ``(seq, message_seq,
    engine)``, in order, read in one snapshot."""
    rows = await db.read_rows(_THREAD_HISTORY, {"tenant": tenant, "thread_id": thread_id})
    messages = [(seq, data) for kind, seq, _, data in rows if kind == 0]
    steps = [(seq, at, engine) for kind, seq, at, engine in rows if kind == 1 and engine]
    return messages, steps
