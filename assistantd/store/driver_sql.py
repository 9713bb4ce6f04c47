"""Hand-written statements for the run engine's hot path, run in the caller's transaction.

A run makes about a dozen small writes and reads by key. Through the ORM each costs several
hundred microseconds of Python (session bookkeeping, compilation, parameter and result
processing, a greenlet hop per call): in a profile of 100 concurrent runs on SQLite, over half
of the server's CPU. On SQLite these statements go straight to the ``sqlite3`` connection the
session is using (inline on the event loop, see ``inline_sqlite``), so the same transaction and
savepoint hold them, at tens of microseconds each. On PostgreSQL they run through SQLAlchemy
``text()`` on the session (asyncpg opens its transaction lazily, so the driver is not used
directly there); JSON columns are typed so both paths take and give dicts.

    LOCK = Statement("SELECT data FROM runs WHERE id = :id", json_columns=("data",), lock=True)
    rows = await fetch(session, LOCK, {"id": run_id})
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import orjson
from sqlalchemy import TextClause, bindparam, column, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store import documents_json
from assistantd.store.inline_sqlite import InlineConnection


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
    def postgresql(self) -> TextClause:
        """The statement for SQLAlchemy, built once (so its compiled form is cached too)."""
        clause = text(self.sql + (" FOR UPDATE" if self.lock else ""))
        if self.json_params:
            clause = clause.bindparams(*(bindparam(n, type_=JSONB) for n in self.json_params))
        if self.result_columns:
            typed = [
                column(n, JSONB) if n in self.json_columns else column(n)
                for n in self.result_columns
            ]
            return clause.columns(*typed)  # type: ignore[return-value]
        return clause


async def fetch(
    session: AsyncSession, statement: Statement, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """The statement's rows (also of ``UPDATE``/``INSERT … RETURNING``)."""
    if session.new or session.deleted or session.dirty:
        # As the ORM's autoflush would: the statement must see (and may refer to) rows the
        # session holds changed but not yet written.
        await session.flush()
    connection = await sqlite_connection(session)
    if connection is None:
        result = await session.execute(statement.postgresql, dict(params))
        return [tuple(row) for row in result.all()] if result.returns_rows else []
    return fetch_inline(connection, statement, params)


async def execute(session: AsyncSession, statement: Statement, params: Mapping[str, Any]) -> None:
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
