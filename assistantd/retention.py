"""Retention: threads idle for ``ASSISTANTD_RETENTION_THREAD_DAYS`` and files uploaded
``ASSISTANTD_RETENTION_FILE_DAYS`` ago are deleted every ``ASSISTANTD_RETENTION_SWEEP_INTERVAL_
SECONDS``, as ``DELETE`` would delete them: a thread with its messages, runs and steps (one
transaction), then its code_interpreter session; a file through ``file_deletion`` (its record
and vector-store memberships, then its chunks and bytes). Usage minutes that ended
``ASSISTANTD_RETENTION_USAGE_DAYS`` ago are deleted in batches of ``USAGE_BATCH`` rows, a
statement each. All are off unless set.

Safe with several processes on one PostgreSQL database, each sweeping: a thread is locked and
checked again before it is deleted (of two processes, the second finds it gone, or no longer
idle), a file is deleted under its row lock (the second gets NotFound), and a batch of usage
minutes skips the rows another process's batch holds: each is deleted once, and what is
skipped is not an error. Stopping waits for the object being deleted, not
for the sweep, so no deletion is cut between its commit and the removal of its bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import NamedTuple

from assistantd.clock import now
from assistantd.config import Settings
from assistantd.errors import NotFound
from assistantd.objects import threads
from assistantd.objects.thread_lock import lock_thread
from assistantd.retrieval.file_deletion import delete_file
from assistantd.retrieval.ingestion_worker import IngestionWorker
from assistantd.store import retention
from assistantd.store.database import Database
from assistantd.tools.code_interpreter import CodeSessions
from assistantd.tools.code_interpreter.tool import thread_session_key

log = logging.getLogger(__name__)

BATCH = 100
# Usage rows are counts, each deleted by the one statement of its batch: larger batches, fewer
# statements, each transaction still short (on SQLite it holds the one writer runs share).
USAGE_BATCH = 1000
DAY_SECONDS = 86400


class Swept(NamedTuple):
    """What one sweep deleted."""

    threads: int
    files: int
    usage_minutes: int


class RetentionSweeper:
    def __init__(
        self,
        db: Database,
        ingestion: IngestionWorker,
        code_sessions: CodeSessions,
        settings: Settings,
    ) -> None:
        self._db = db
        self._ingestion = ingestion
        self._code_sessions = code_sessions
        self._thread_days = settings.retention_thread_days
        self._file_days = settings.retention_file_days
        self._usage_days = settings.retention_usage_days
        self._interval = settings.retention_sweep_interval_seconds
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        days = (self._thread_days, self._file_days, self._usage_days)
        return any(d is not None for d in days)

    def start(self) -> None:
        if not self.enabled:
            return
        self._stopping.clear()
        self._task = asyncio.create_task(self._sweep_forever(), name="retention-sweep")

    async def stop(self) -> None:
        # Not task.cancel(): see the module's docstring.
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def sweep(self) -> Swept:
        """Delete what retention says is due; returns what this call deleted."""
        deleted_threads = deleted_files = deleted_usage = 0
        if self._thread_days is not None:
            deleted_threads = await self._sweep_threads(_cutoff(self._thread_days))
        if self._file_days is not None:
            deleted_files = await self._sweep_files(_cutoff(self._file_days))
        if self._usage_days is not None:
            # Minutes that began before the cutoff's minute: those that ended by the cutoff.
            deleted_usage = await self._sweep_usage(_cutoff(self._usage_days) // 60 * 60)
        return Swept(deleted_threads, deleted_files, deleted_usage)

    async def _sweep_threads(self, cutoff: int) -> int:
        deleted = 0
        while not self._stopping.is_set():
            async with self._db.read() as session:
                due = await retention.idle_threads(session, cutoff, BATCH)
            done = 0
            for tenant, thread_id in due:
                if self._stopping.is_set():
                    break
                done += await self._guarded(self._delete_thread(tenant, thread_id, cutoff))
            deleted += done
            # A batch all skipped (another process's, or failing) waits for the next sweep.
            if len(due) < BATCH or done == 0:
                break
        return deleted

    async def _sweep_files(self, cutoff: int) -> int:
        deleted = 0
        while not self._stopping.is_set():
            async with self._db.read() as session:
                due = await retention.old_files(session, cutoff, now(), BATCH)
            done = 0
            for tenant, file_id in due:
                if self._stopping.is_set():
                    break
                done += await self._guarded(self._delete_file(tenant, file_id))
            deleted += done
            if len(due) < BATCH or done == 0:
                break
        return deleted

    async def _sweep_usage(self, cutoff: int) -> int:
        deleted = 0
        while not self._stopping.is_set():
            done = await retention.delete_old_usage(self._db, cutoff, USAGE_BATCH)
            deleted += done
            # Short: the last batch (or the rest is another process's, deleting it now).
            if done < USAGE_BATCH:
                break
        return deleted

    async def _delete_thread(self, tenant: str, thread_id: str, cutoff: int) -> bool:
        async with self._db.write() as session:
            await lock_thread(session, tenant, thread_id)
            if not await retention.is_idle(session, tenant, thread_id, cutoff):
                return False  # a message or run arrived since it was chosen
            await threads.delete(session, tenant, thread_id)
        await self._code_sessions.close(thread_session_key(tenant, thread_id))
        return True

    async def _delete_file(self, tenant: str, file_id: str) -> bool:
        await delete_file(self._db, self._ingestion, tenant, file_id)
        return True

    async def _guarded(self, deletion: Awaitable[bool]) -> bool:
        try:
            return await deletion
        except NotFound:
            return False  # deleted meanwhile (by a client, or another process's sweep)
        except Exception:  # one object that cannot be deleted now must not hold up the others
            log.exception("retention: deleting failed")
            return False

    async def _sweep_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                swept = await self.sweep()
                if any(swept):
                    log.info("retention deleted %d threads, %d files and %d usage minutes", *swept)
            except Exception:  # a database hiccup must not end the sweeping
                log.exception("retention sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)


def _cutoff(days: float) -> int:
    return now() - int(days * DAY_SECONDS)
