"""The expiry sweep: files past their ``expires_at`` (``expires_after`` on upload) are deleted
for good every ``interval`` seconds, as ``DELETE /files/{id}`` deletes them (``file_deletion``).

Until the sweep reaches it, an expired file is already gone to clients (the queries leave it
out). With several server processes on one PostgreSQL database each sweeps; a file another
process is deleting is skipped, so none is deleted twice. Stopping waits for the file being
deleted, not for the whole sweep, and never cuts a deletion between its commit and the removal
of the bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from assistantd.objects import files
from assistantd.retrieval.file_deletion import delete_expired_file
from assistantd.retrieval.ingestion_worker import IngestionWorker
from assistantd.store.database import Database

log = logging.getLogger(__name__)

BATCH = 100


class FileExpirySweeper:
    def __init__(self, db: Database, ingestion: IngestionWorker, interval_seconds: float) -> None:
        self._db = db
        self._ingestion = ingestion
        self._interval = interval_seconds
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._sweep_forever(), name="file-expiry-sweep")

    async def stop(self) -> None:
        # Not task.cancel(): a cancel could land after a file's row is deleted and before its
        # bytes are, leaving them on disk for good.
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def sweep(self) -> int:
        """Delete every file that has expired; returns how many this call deleted."""
        deleted = 0
        while not self._stopping.is_set():
            async with self._db.read() as session:
                due = await files.expired(session, BATCH)
            done = 0
            for tenant, file_id in due:
                if self._stopping.is_set():
                    break
                done += await self._delete(tenant, file_id)
            deleted += done
            # A batch that was all skipped (other processes' or failing) waits for the next sweep.
            if len(due) < BATCH or done == 0:
                break
        return deleted

    async def _delete(self, tenant: str, file_id: str) -> bool:
        try:
            return await delete_expired_file(self._db, self._ingestion, tenant, file_id)
        except Exception:  # one file that cannot be deleted now must not hold up the others
            log.exception("deleting expired file %s failed", file_id)
            return False

    async def _sweep_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                if deleted := await self.sweep():
                    log.info("deleted %d expired files", deleted)
            except Exception:  # a database hiccup must not end the sweeping
                log.exception("sweeping expired files failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
