"""SQLite connections for SQLAlchemy's aiosqlite dialect that run each call on the event loop's
own thread instead of handing it to a worker thread.

A statement by key on a local SQLite file takes tens of microseconds; aiosqlite's hand-off to
its thread and back (a queue, a thread wake-up, ``call_soon_threadsafe``, GIL hand-overs) costs
more than that, several times per statement (cursor, execute, fetch, close). On the run hot path
(~20 statements per run) the hops were most of the server's time. Calls never wait long here:
all writes go through the one writer connection (so no writer waits for another process's
lock: one server per SQLite database), and WAL readers never wait for the writer.

    engine = create_async_engine(url, async_creator=inline_connector(path))
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run inline; its thread only opens and closes it."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    @property
    def sqlite_connection(self) -> sqlite3.Connection:
        """The ``sqlite3`` connection itself, for statements run without SQLAlchemy
        (``driver_sql``), in whatever transaction SQLAlchemy has open on it."""
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return self._connection


def inline_connector(path: str) -> Callable[[], Awaitable[InlineConnection]]:
    """What ``create_async_engine(async_creator=…)`` calls for each new pooled connection."""

    def connect() -> sqlite3.Connection:
        # Opened on aiosqlite's thread, then used from the event loop's.
        return sqlite3.connect(path, check_same_thread=False)

    async def create() -> InlineConnection:
        connection = InlineConnection(connect, iter_chunk_size=64)
        connection._thread.daemon = True
        return await connection

    return create
