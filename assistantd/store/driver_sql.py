"""Hand-written statements for the run engine's hot path, run in the caller's transaction.

A run makes about a dozen small writes and reads by key. Through the ORM each costs several
hundred microseconds of Python (session bookkeeping, compilation, parameter and result
processing, a greenlet hop per call): in a profile of 100 concurrent runs on SQLite, over half
of the server's CPU. On SQLite these statements go straight to the ``sqlite3`` connection the
session is using (inline on the event loop, see ``inline_sqlite``), so the same transaction and
savepoint hold them, at tens of microseconds each. On PostgreSQL they go straight to the
asyncpg connection under the session, in the session's transaction (opened first if SQLAlchemy
has not yet: it does so lazily), or, in a ``write(orm=False)`` block, to a ``DriverTransaction``
with no session at all. Through SQLAlchemy's ``text()`` a transaction of three cost 0.50 ms of
CPU, on the driver 0.24 ms; a streamed run made ~15 of them (counted under bench/bench_runs.py's
100 streaming runs), ~8 since the executor saves runs unlocked (``unlocked_write``). JSON
parameters and columns are documents (dicts) on both paths.

    LOCK = Statement("SELECT data FROM runs WHERE id = :id", json_columns=("data",), lock=True)
    rows = await fetch(session, LOCK, {"id": run_id})
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, TypeAlias

import orjson
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store import documents_json
from assistantd.store.inline_sqlite import InlineConnection

if TYPE_CHECKING:
    from assistantd.store.driver_transaction import DriverTransaction
    from assistantd.store.unlocked_write import UnlockedWrite


class StoreSession(AsyncSession):
    """An ORM session of a ``Database``, which says which database it is on (``is_sqlite``), as
    the other kinds of ``Transaction`` do: statements that differ between the two (``usage``'s
    slots) ask it rather than the session's bind."""

    def __init__(self, *args: Any, is_sqlite: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_sqlite = is_sqlite


# What a write block of hand-written statements runs in: an ORM session's transaction, or on
# PostgreSQL (``Database.write(orm=False)``) a transaction on the asyncpg connection itself, or
# writes gathered to go with a run's save unless the run changed (``UnlockedWrite``). Each has
# ``is_sqlite``.
Transaction: TypeAlias = "StoreSession | DriverTransaction | UnlockedWrite"


@dataclass(frozen=True)
class Statement:
    """One statement in SQLite's ``:name`` style. ``json_params`` / ``json_columns`` name the
    parameters and result columns that hold JSON documents; ``lock`` adds ``FOR UPDATE`` on
    PostgreSQL (SQLite's single writer connection already serialises write transactions)."""

    sql: str
    json_params: tuple[str, ...] = ()
    json_columns: tuple[str, ...] = ()
    result_columns: tuple[str, ...] = ()
    lock: bool = False

    @cached_property
    def postgresql(self) -> tuple[str, tuple[str, ...]]:
        """The statement as asyncpg takes it (``$1 …``), and its parameters' names in order."""
        return numbered_parameters(self.sql + (" FOR UPDATE" if self.lock else ""))

    def asyncpg_args(self, params: Mapping[str, Any]) -> list[Any]:
        """``params`` in the order of ``postgresql``'s numbers, documents as JSON text."""
        return [
            encode_json(params[n]) if n in self.json_params else params[n]
            for n in self.postgresql[1]
        ]


async def fetch(
    session: Transaction, statement: Statement, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The statement's rows (also of ``UPDATE``/``INSERT … RETURNING``)."""
    if not isinstance(session, AsyncSession):
        return await session.fetch(statement, params)
    if session.new or session.deleted or session.dirty:
        # As the ORM's autoflush would: the statement must see (and may refer to) rows the
        # session holds changed but not yet written.
        await session.flush()
    connection = await sqlite_connection(session)
    if connection is None:
        return await _fetch_asyncpg(session, statement, params)
    return fetch_inline(connection, statement, params)


async def execute(session: Transaction, statement: Statement, params: Mapping[str, Any]) -> None:
    """A statement whose rows nobody needs (in a ``DriverTransaction``, a write may wait to go
    with the block's next statement)."""
    if not isinstance(session, AsyncSession):
        await session.execute(statement, params)
        return
    await fetch(session, statement, params)


def fetch_inline(
    connection: sqlite3.Connection, statement: Statement, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The statement on a plain ``sqlite3`` connection. Driver errors surface as SQLAlchemy's
    (``IntegrityError`` …), as they would through the session."""
    try:
        rows = connection.execute(statement.sql, _sqlite_params(statement, params)).fetchall()
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement.sql, dict(params), error, sqlite3.Error) from error
    return _decoded(statement, rows)


async def _fetch_asyncpg(
    session: AsyncSession, statement: Statement, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The statement on the asyncpg connection in the session's transaction. JSON columns come
    decoded by the codec SQLAlchemy registered on the connection; JSON parameters go to it as
    text, encoded as every write is (``documents_json``)."""
    adapter = await _asyncpg_adapter(session)
    if adapter._transaction is None:
        # As SQLAlchemy's cursor does before its first statement: without this the statement
        # would run on its own, committed whatever the session does next.
        await adapter._start_transaction()
    sql, args = statement.postgresql[0], statement.asyncpg_args(params)
    try:
        rows = await adapter.driver_connection.fetch(sql, *args)
    except Exception as error:
        raise sqlalchemy_error(adapter, sql, args, error) from error
    return [tuple(row) for row in rows]


async def _asyncpg_adapter(session: AsyncSession) -> Any:
    """SQLAlchemy's adapter of the asyncpg connection under the session's transaction (begun if
    not yet). Looked up once per transaction: a later transaction may have another connection."""
    cached = session.info.get(_ASYNCPG_ADAPTER)
    if cached is not None and cached[0] is session.sync_session.get_transaction():
        return cached[1]
    connection = await session.connection()
    adapter = (await connection.get_raw_connection()).dbapi_connection
    session.info[_ASYNCPG_ADAPTER] = (session.sync_session.get_transaction(), adapter)
    return adapter


_ASYNCPG_ADAPTER = "assistantd.asyncpg_adapter"


def sqlalchemy_error(adapter: Any, sql: str, args: list[Any], error: Exception) -> Exception:
    """The driver's error as SQLAlchemy raises it through a session (``IntegrityError`` …), so
    that callers catch the same exceptions on both paths."""
    try:
        adapter._handle_exception(error)  # raises the DB-API error SQLAlchemy maps it to
    except adapter.dbapi.Error as translated:
        return DBAPIError.instance(sql, args, translated, adapter.dbapi.Error)
    except Exception as other:
        return other
    return error


@cache
def numbered_parameters(sql: str) -> tuple[str, tuple[str, ...]]:
    """``sql`` with its ``:name`` parameters as asyncpg's ``$1, $2 …``, and the names in that
    order (a name used twice is one parameter; ``::`` casts are left alone)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return _NAMED_PARAMETER.sub(number, sql), tuple(names)


@cache
def joined(statements: tuple[Statement, ...]) -> Statement:
    """Statements as one, for PostgreSQL: each but the last in a data-modifying ``WITH`` clause
    (all of them run on one snapshot: none sees another's rows); statement ``i``'s parameter
    ``name`` is ``name__i``. Its rows are the last statement's."""
    renamed = [
        _NAMED_PARAMETER.sub(lambda match, i=i: f":{match.group(1)}__{i}", statement.sql)
        for i, statement in enumerate(statements)
    ]
    *clauses, last = renamed
    if clauses:
        last = "WITH " + ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(clauses)) + " " + last
    return Statement(
        last,
        json_params=tuple(f"{n}__{i}" for i, s in enumerate(statements) for n in s.json_params),
        json_columns=statements[-1].json_columns,
        result_columns=statements[-1].result_columns,
    )


@cache
def guarded(guard: Statement, statements: tuple[Statement, ...]) -> Statement:
    """``guard`` and ``statements`` as one, for PostgreSQL, the statements applied only if the
    guard changes a row: ``guard`` an ``UPDATE … RETURNING``, each of ``statements`` an
    ``UPDATE … WHERE …`` (its ``WHERE`` gains a condition on the guard's rows, which makes the
    guard run first) or an ``INSERT … VALUES (…)`` (made an ``INSERT … SELECT …`` of that
    condition). Parameters renamed as by ``joined`` (the guard's is ``__0``); none is taken as
    a document: the caller passes them encoded. Its rows are the guard's."""
    renamed = [
        _NAMED_PARAMETER.sub(lambda match, i=i: f":{match.group(1)}__{i}", statement.sql)
        for i, statement in enumerate((guard, *statements))
    ]
    clauses = [f"w0 AS ({renamed[0]})"]
    for i, sql in enumerate(renamed[1:], start=1):
        clauses.append(f"w{i} AS ({_guarded_write(sql)})")
    return Statement(
        "WITH " + ", ".join(clauses) + " SELECT * FROM w0", result_columns=guard.result_columns
    )


def _guarded_write(sql: str) -> str:
    condition = "EXISTS (SELECT 1 FROM w0)"
    assert " RETURNING " not in sql, sql
    if _INSERT_VALUES.match(sql):
        return _INSERT_VALUES.sub(rf"\1 SELECT \2 WHERE {condition}", sql, count=1)
    assert " WHERE " in sql, sql
    return f"{sql} AND {condition}"


def joined_params(*params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of ``joined`` statements, from each statement's own, in order."""
    return {f"{name}__{i}": value for i, each in enumerate(params) for name, value in each.items()}


@cache
def written_table(sql: str) -> str | None:
    """The table an ``INSERT``, ``UPDATE`` or ``DELETE`` writes; None for other statements."""
    match = _WRITE.match(sql)
    return match.group(1) if match else None


_WRITE = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)
# ``INSERT INTO t (…) VALUES (…)``, its values holding no parentheses (parameters, literals).
_INSERT_VALUES = re.compile(r"(\s*INSERT\s+INTO\s+\w+\s*\([^()]*\))\s*VALUES\s*\(([^()]*)\)", re.I)
_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


def encode_json(value: Any) -> str | None:
    """A document as SQLite stores it (SQL NULL for None)."""
    return None if value is None else documents_json.encode(value)


async def sqlite_connection(session: AsyncSession) -> sqlite3.Connection | None:
    """The ``sqlite3`` connection under the session's transaction (begun if not yet); None on
    other databases. Looked up once per transaction."""
    cached = session.info.get(_SQLITE_CONNECTION, _UNKNOWN)
    if cached is not _UNKNOWN:
        return cached
    connection = await session.connection()
    found = None
    if connection.dialect.name == "sqlite":
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, InlineConnection)
        found = driver.sqlite_connection
    session.info[_SQLITE_CONNECTION] = found
    return found


_SQLITE_CONNECTION = "assistantd.sqlite_connection"
_UNKNOWN = object()


def _sqlite_params(statement: Statement, params: Mapping[str, Any]) -> Mapping[str, Any]:
    if not statement.json_params:
        return params
    return {k: encode_json(v) if k in statement.json_params else v for k, v in params.items()}


def _decoded(statement: Statement, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    if not statement.json_columns:
        return list(rows)
    positions = [statement.result_columns.index(n) for n in statement.json_columns]
    decoded = []
    for row in rows:
        values = list(row)
        for i in positions:
            if values[i] is not None:
                values[i] = orjson.loads(values[i])
        decoded.append(tuple(values))
    return decoded
