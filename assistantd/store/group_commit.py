"""Group commit for SQLite's single writer: writers that queue up behind each other share one
transaction and one COMMIT.

Each writer still runs alone (one at a time, as with the one-connection pool before), inside a
SAVEPOINT of the shared transaction: its error rolls back only its own changes. The transaction
commits when no other writer is waiting (or after ``max_batch`` writers), and every writer of the
batch returns only once that commit is done, so nothing is answered before it is durable, and
what one writer wrote is visible to the next one in the batch (the thread lock's "no active run"
check sees a run created just before it). Under load, many runs' small transactions (create,
start, open message, finish) cost one BEGIN and one COMMIT together; alone, a writer commits at
once, as before.

    writes = GroupCommit(async_sessionmaker(engine, class_=StoreSession, is_sqlite=True))
    async with writes.write() as session:
        ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSessionTransaction, async_sessionmaker

from assistantd.store.driver_sql import StoreSession, sqlite_connection


class GroupCommit:
    """``max_batch`` bounds how long a finished writer waits for the ones queued behind it (a
    run's first write happens mid-stream, so its tokens wait too): 64 made token gaps spike
    when 200 runs started at once; 16 keeps most of the saving (batches were 20–60 under load).
    """

    def __init__(self, sessions: async_sessionmaker[StoreSession], max_batch: int = 16) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._lock = asyncio.Lock()
        self._waiting = 0  # writers queued for the lock
        self._session: StoreSession | None = None
        self._transaction: AsyncSessionTransaction | None = None
        self._committed: asyncio.Future[None] | None = None
        self._writers = 0  # writers in the open batch
        self._batch_info: dict[str, object] = {}

    @asynccontextmanager
    async def write(self, orm: bool = True) -> AsyncIterator[StoreSession]:
        """A writer's own changes: rolled back alone on error; returns once committed.
        ``orm=False``: the writer changes rows only by hand-written statements (``driver_sql``),
        so its savepoint is a plain SQL one, without the ORM's bookkeeping (a third of the
        run engine's write cost)."""
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1
        try:
            session, committed = await self._batch()
            try:
                savepoint = _orm_savepoint(session) if orm else _plain_savepoint(session)
                async with savepoint:
                    yield session
            finally:
                # The next writer starts from the database, not from objects this one loaded
                # (Core updates bypass them), nor from what it left in ``session.info``.
                session.expunge_all()
                session.info.clear()
                session.info.update(self._batch_info)  # the batch's own: its connection
                self._writers += 1
                if self._waiting == 0 or self._writers >= self._max_batch:
                    await asyncio.shield(self._commit())
        finally:
            self._lock.release()
        await asyncio.shield(committed)

    async def _batch(self) -> tuple[StoreSession, asyncio.Future[None]]:
        if self._session is None or self._committed is None:
            session = self._sessions()
            try:
                self._transaction = await session.begin()
            except BaseException:
                await session.close()
                raise
            self._session = session
            self._committed = asyncio.get_running_loop().create_future()
            self._writers = 0
            await sqlite_connection(session)  # looked up once a batch (cached in its info)
            self._batch_info = dict(session.info)
        return self._session, self._committed

    async def _commit(self) -> None:
        session, transaction, committed = self._session, self._transaction, self._committed
        self._session = self._transaction = self._committed = None
        assert session is not None and transaction is not None and committed is not None
        try:
            await transaction.commit()
        except BaseException as error:
            committed.set_exception(error if isinstance(error, Exception) else RuntimeError())
            committed.exception()  # retrieved: no "never retrieved" warning when all left
        else:
            committed.set_result(None)
        finally:
            await session.close()


@asynccontextmanager
async def _orm_savepoint(session: StoreSession) -> AsyncIterator[None]:
    async with session.begin_nested():
        # SQLAlchemy emits SAVEPOINT lazily, on the nested transaction's first use of the
        # connection; statements on the cached driver connection would not make it do so.
        await session.connection()
        yield


@asynccontextmanager
async def _plain_savepoint(session: StoreSession) -> AsyncIterator[None]:
    connection = await sqlite_connection(session)
    connection.execute("SAVEPOINT writer")
    try:
        yield
        if session.new or session.dirty or session.deleted:
            # ORM changes after all: written in an ORM savepoint, so a failed flush rolls
            # back only this writer.
            async with session.begin_nested():
                await session.flush()
    except BaseException:
        connection.execute("ROLLBACK TO writer")
        connection.execute("RELEASE writer")
        raise
    connection.execute("RELEASE writer")
