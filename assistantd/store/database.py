"""Connections to the database: SQLite (embedded default) or PostgreSQL.

SQLite allows one writer at a time. Rather than let concurrent writers collide and retry on
SQLITE_BUSY, all writes go through a single connection (a pool of one), which serialises them
in-process, and writers that queue up share one transaction and one COMMIT (``GroupCommit``:
each in its own savepoint, each answered only once committed); reads use their own pool and,
in WAL mode, never wait for the writer. PostgreSQL uses one pool for both, a transaction each;
a write of hand-written statements only (``write(orm=False)``, the run engine's) runs on the
asyncpg connection itself (``DriverTransaction``), with no ORM session around it.

``read_row`` is the hot read path (the SDK polls a run every few tens of milliseconds): one
hand-written statement, no ORM session. On SQLite it runs on the event loop's own thread: a read
by an indexed key takes tens of microseconds, less than a hop to aiosqlite's thread costs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Literal, overload

from sqlalchemy import event, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import PoolProxiedConnection

from assistantd.store import documents_json
from assistantd.store.driver_sql import (
    Statement,
    StoreSession,
    Transaction,
    fetch,
    fetch_inline,
    sqlalchemy_error,
)
from assistantd.store.driver_transaction import DriverTransaction
from assistantd.store.group_commit import GroupCommit
from assistantd.store.inline_sqlite import inline_connector
from assistantd.store.migrate import pending_migrations, upgrade_to_head


class Database:
    def __init__(self, url: str, pool_size: int = 30) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _ensure_parent_dir(url)
            self._writer = _sqlite_engine(url, pool_size=1, immediate=True)
            self._reader = _sqlite_engine(url, pool_size=8, immediate=False)
        else:
            self._writer = create_async_engine(
                # No overflow: connections opened beyond the pool would be closed as soon as
                # they are returned, and opened again at the next burst (bench_scale_out's
                # "connections opened": 42 per 600 runs with 20 + 20 overflow).
                url,
                pool_size=pool_size,
                max_overflow=0,
                json_serializer=documents_json.encode,
            )
            self._reader = self._writer
        self._inline: sqlite3.Connection | None = None
        self._write_sessions = _sessions(self._writer, self.is_sqlite)
        self._read_sessions = _sessions(self._reader, self.is_sqlite)
        self._group = GroupCommit(self._write_sessions) if self.is_sqlite else None

    async def migrate(self) -> list[str]:
        """Bring the schema to the head; returns the migrations applied (``revision (title)``)."""
        async with self._writer.begin() as connection:
            return await connection.run_sync(upgrade_to_head)

    async def pending_migrations(self) -> list[str]:
        """The migrations this database lacks (``revision (title)``), oldest first."""
        async with self._writer.connect() as connection:
            return await connection.run_sync(pending_migrations)

    async def ping(self) -> None:
        """One round trip: raises what connecting raises (refused, unknown host, bad password)."""
        async with self._writer.connect() as connection:
            await connection.exec_driver_sql(_PING)

    @overload
    def write(self, orm: Literal[True] = True) -> AbstractAsyncContextManager[StoreSession]: ...

    @overload
    def write(self, orm: Literal[False]) -> AbstractAsyncContextManager[Transaction]: ...

    def write(self, orm: bool = True) -> AbstractAsyncContextManager[Any]:
        """A transaction that commits on success and rolls back on any error (on SQLite, a
        savepoint in a transaction shared with the writers queued behind it; either way the
        block's exit waits for the commit). ``orm=False`` promises that the block reads and
        writes only through ``driver_sql`` statements (on SQLite a cheaper savepoint, on
        PostgreSQL a ``DriverTransaction`` instead of a session)."""
        if self._group is not None:
            return self._group.write(orm)
        if not orm:
            return self._driver_write()
        return self._session_write()

    @asynccontextmanager
    async def _session_write(self) -> AsyncIterator[StoreSession]:
        async with self._write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _driver_write(self) -> AsyncIterator[DriverTransaction]:
        async with self._asyncpg() as pooled:
            transaction = DriverTransaction(pooled.driver_connection, pooled.dbapi_connection)
            try:
                yield transaction
                await transaction.commit()
            except Exception:
                await transaction.rollback()
                raise

    @asynccontextmanager
    async def read(self) -> AsyncIterator[StoreSession]:
        async with self._read_sessions() as session:
            yield session

    async def read_row(
        self, statement: Statement, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """The first row of a hand-written read by key (as ``read_rows``), or None."""
        rows = await self.read_rows(statement, params)
        return rows[0] if rows else None

    async def read_rows(
        self, statement: Statement, params: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """All rows of one hand-written read (documents decoded), outside any transaction: one
        statement reads one snapshot. On PostgreSQL one round trip on asyncpg itself, where a
        ``read()`` session adds BEGIN and ROLLBACK and SQLAlchemy's session around them (3× the
        CPU)."""
        if self.is_sqlite:
            try:
                return fetch_inline(self._inline_connection(), statement, params)
            except OperationalError:
                pass  # locked for a moment (e.g. WAL recovery): ask the pool instead
            async with self.read() as session:
                return await fetch(session, statement, params)
        return await self._alone(statement, params)

    async def write_rows(
        self, statement: Statement, params: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The rows of one hand-written write (``INSERT … RETURNING``), a transaction by
        itself: on PostgreSQL one round trip on asyncpg, without BEGIN and COMMIT."""
        if self._group is not None:
            async with self.write(orm=False) as session:
                return await fetch(session, statement, params)
        return await self._alone(statement, params)

    async def _alone(
        self, statement: Statement, params: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """PostgreSQL: one statement outside any transaction (so its own)."""
        sql, args = statement.postgresql[0], statement.asyncpg_args(params)
        async with self._asyncpg() as pooled:
            try:
                rows = await pooled.driver_connection.fetch(sql, *args)
            except Exception as error:
                raise sqlalchemy_error(pooled.dbapi_connection, sql, args, error) from error
        return [tuple(row) for row in rows]

    @asynccontextmanager
    async def _asyncpg(self) -> AsyncIterator[PoolProxiedConnection]:
        """A connection of the pool, to use the asyncpg connection under it (``driver_connection``)
        itself: SQLAlchemy's ``Connection`` around it costs more CPU than a short statement."""
        pooled = await self._writer.raw_connection()
        try:
            yield pooled
        except BaseException as error:
            driver = pooled.driver_connection
            if (
                isinstance(error, Exception)
                and not driver.is_closed()
                and not driver.is_in_transaction()
            ):
                pooled.close()
                raise
            # Interrupted (cancelled) mid-statement, lost, or left in a transaction that could
            # not be rolled back: not fit for the next user.
            pooled.invalidate()
            raise
        pooled.close()

    def _inline_connection(self) -> sqlite3.Connection:
        if self._inline is None:
            path = self.url.split(":///", 1)[-1]
            # Autocommit (isolation_level=None): each read sees the newest commit, holds no
            # snapshot open. A zero busy timeout: never block the event loop waiting for a lock.
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA query_only=ON")
            connection.execute("PRAGMA busy_timeout=0")
            self._inline = connection
        return self._inline

    async def notify(self, channel: str, *payloads: str) -> None:
        """PostgreSQL ``NOTIFY channel, payload`` for each payload, to every listening process
        (after commit of the caller's own transaction: this one is separate)."""
        async with self._asyncpg() as pooled:
            # On asyncpg itself, outside a transaction: one round trip each, where SQLAlchemy's
            # BEGIN … COMMIT around it made three (every run is handed over by one).
            for payload in payloads:
                await pooled.driver_connection.execute(_NOTIFY, channel, payload)

    async def listen(self, channels: Mapping[str, Callable[[str], None]]) -> Listener:
        """A connection of its own that calls ``channels[name](payload)`` for each
        notification; close it when done. PostgreSQL only."""
        import asyncpg

        connection = await asyncpg.connect(_asyncpg_dsn(self.url))
        for name, callback in channels.items():
            await connection.add_listener(name, _listener(callback))
        return Listener(connection)

    async def dispose(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()


_NOTIFY = "SELECT pg_notify($1, $2)"
_PING = "SELECT 1"


class Listener:
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def close(self) -> None:
        await self._connection.close()


def _listener(callback: Callable[[str], None]) -> Callable[..., None]:
    def on_notification(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        callback(payload)

    return on_notification


def _asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://…`` (SQLAlchemy's form) as asyncpg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sessions(engine: AsyncEngine, is_sqlite: bool) -> async_sessionmaker[StoreSession]:
    return async_sessionmaker(
        engine, class_=StoreSession, expire_on_commit=False, is_sqlite=is_sqlite
    )


def _ensure_parent_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str, *, pool_size: int, immediate: bool) -> AsyncEngine:
    path = url.split(":///", 1)[-1]
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        async_creator=inline_connector(path),
        json_serializer=documents_json.encode,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
