"""The background indexing of vector-store files: an in-process pool of workers fed by a queue.

Adding a file to a store records it ``in_progress`` and enqueues it here; a worker reads the
file's bytes, parses, chunks, embeds and indexes them, then records the outcome (``completed`` or
``failed`` with ``last_error``) and refreshes the store's and batch's counts.

The database is the source of truth, the queue only a hint: at start-up, and every few seconds
after, every file still ``in_progress`` that is neither queued nor running is queued (again), so
a crash never leaves one stuck and files recorded by code that cannot reach the worker (the
``tool_resources`` helper) get indexed too. A file removed or cancelled
while it is being indexed has its chunks thrown away when the worker finishes (and its running
job is cancelled at once where possible).

Several server processes may share the database: a worker claims a file before indexing it
(``vector_store_files.claim``) under a lease it renews while it works, so each file is indexed
by one process, and a file whose indexer died is taken over by the sweep of another once its
lease lapses. An outcome is recorded only by the claim's holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from assistantd.objects import file_batches, vector_store_files
from assistantd.retrieval.chunking import AUTO, ChunkingStrategy
from assistantd.retrieval.embedder import Embedder
from assistantd.retrieval.errors import FileIndexingError
from assistantd.retrieval.index import ChunkIndex
from assistantd.retrieval.ingest import ingest_file
from assistantd.retrieval.parse_limits import DEFAULT_LIMITS, ParseLimits
from assistantd.store import documents
from assistantd.store.blobs import BlobStore
from assistantd.store.database import Database
from assistantd.store.file_tables import File, VectorStoreFile

log = logging.getLogger(__name__)

FLOAT32_BYTES = 4
SWEEP_SECONDS = 1.0
LEASE_SECONDS = 30.0


@dataclass(frozen=True)
class Job:
    tenant: str
    store_id: str
    file_id: str


@dataclass(frozen=True)
class _Work:
    """What a job needs, read in one short transaction."""

    filename: str
    strategy: ChunkingStrategy
    attributes: dict[str, Any]


class IngestionWorker:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        index: ChunkIndex,
        embedder: Embedder,
        concurrency: int = 2,
        sweep_seconds: float = SWEEP_SECONDS,
        limits: ParseLimits = DEFAULT_LIMITS,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.db = db
        self.blobs = blobs
        self.index = index
        self.embedder = embedder
        self._concurrency = max(concurrency, 1)
        self._sweep_seconds = sweep_seconds
        self._limits = limits
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._queued: set[tuple[str, str]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._running: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lease_seconds = lease_seconds
        # On SQLite this is the database's only server: any other claim is a previous run's.
        self._exclusive = db.is_sqlite

    async def start(self) -> None:
        """Queue the files a previous run left in progress, then start the workers."""
        await self._sweep()
        self._loops = [
            asyncio.create_task(self._serve(), name=f"ingestion-{n}")
            for n in range(self._concurrency)
        ]
        self._loops.append(asyncio.create_task(self._sweep_forever(), name="ingestion-sweep"))

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        await self.index.close()
        aclose = getattr(self.embedder, "aclose", None)
        if aclose is not None:
            await aclose()

    def in_progress(self) -> int:
        """Files being indexed here now."""
        return len(self._running)

    def waiting(self) -> int:
        """Files handed to this worker that wait for one of its loops."""
        return self._queue.qsize()

    def enqueue(self, tenant: str, store_id: str, file_id: str) -> None:
        """Index the file soon. Re-adding a file that is being indexed restarts its job."""
        key = (store_id, file_id)
        self.cancel(store_id, file_id)
        if key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(Job(tenant, store_id, file_id))

    async def _sweep(self) -> None:
        async with self.db.read() as session:
            claimant = None if self._exclusive else self._worker
            unfinished = await vector_store_files.unfinished(session, claimant)
        for tenant, store_id, file_id in unfinished:
            key = (store_id, file_id)
            if key not in self._queued and key not in self._running:
                self._queued.add(key)
                self._queue.put_nowait(Job(tenant, store_id, file_id))

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_seconds)
            try:
                await self._sweep()
            except Exception:  # a database hiccup must not end the sweeping
                log.exception("sweeping for unfinished vector-store files failed")

    def cancel(self, store_id: str, file_id: str) -> None:
        """Stop indexing the file now if a worker is on it (its row is already not in progress)."""
        task = self._running.get((store_id, file_id))
        if task is not None:
            task.cancel()

    async def forget(self, store_id: str, file_id: str) -> None:
        """Drop the file's chunks from the store's index (after it left the store)."""
        self.cancel(store_id, file_id)
        await self.index.delete_file(store_id, file_id)

    async def idle(self) -> None:
        """Wait until the queue is empty and no job runs (for tests and benchmarks)."""
        await self._queue.join()

    async def _serve(self) -> None:
        while True:
            job = await self._queue.get()
            key = (job.store_id, job.file_id)
            self._queued.discard(key)
            task = asyncio.create_task(self._process(job))
            self._running[key] = task
            try:
                # wait() does not raise when the job itself was cancelled, only when we are.
                await asyncio.wait([task])
            except asyncio.CancelledError:
                task.cancel()
                raise
            finally:
                if self._running.get(key) is task:
                    del self._running[key]
                self._queue.task_done()
            # A cancelled job's canceller deals with its chunks (``forget`` or a new job).
            if not task.cancelled() and task.exception() is not None:
                log.error("indexing %s failed", job, exc_info=task.exception())

    async def _process(self, job: Job) -> None:
        work = await self._read(job)
        if work is None or not await self._claim(job):
            return
        keeper = asyncio.create_task(self._keep_claim(job))
        try:
            await self._index(job, work)
        finally:
            keeper.cancel()

    async def _claim(self, job: Job) -> bool:
        async with self.db.write() as session:
            return await vector_store_files.claim(
                session,
                job.tenant,
                job.store_id,
                job.file_id,
                self._worker,
                time.time() + self._lease_seconds,
                exclusive=self._exclusive,
            )

    async def _keep_claim(self, job: Job) -> None:
        """Renew the lease while the job runs (a third of it at a time, so one late renewal
        does not lose it)."""
        while True:
            await asyncio.sleep(self._lease_seconds / 3)
            try:
                async with self.db.write() as session:
                    held = await vector_store_files.renew(
                        session,
                        job.store_id,
                        job.file_id,
                        self._worker,
                        time.time() + self._lease_seconds,
                    )
            except Exception:  # a database hiccup: try again at the next beat
                log.exception("renewing the claim on %s failed", job)
                continue
            if not held:
                return

    async def _index(self, job: Job, work: _Work) -> None:
        error: tuple[str, str] | None = None
        usage = 0
        try:
            data = await self.blobs.read(job.file_id)
            await ingest_file(
                self.index,
                self.embedder,
                job.store_id,
                job.file_id,
                data,
                work.filename,
                strategy=work.strategy,
                attributes=work.attributes,
                limits=self._limits,
            )
            usage = await self._usage_bytes(job)
        except FileIndexingError as failure:
            error = (failure.code, str(failure) or failure.code)
        except Exception as failure:  # an embedder or parser fault fails the file, not the worker
            log.exception("indexing %s failed", job)
            error = ("server_error", f"The file could not be indexed: {type(failure).__name__}")
        await self._record(job, work, usage, error)

    async def _read(self, job: Job) -> _Work | None:
        async with self.db.read() as session:
            row = await documents.fetch(
                session, VectorStoreFile, job.tenant, job.file_id, vector_store_id=job.store_id
            )
            file = await documents.fetch(session, File, job.tenant, job.file_id)
        if row is None or row.status != "in_progress" or file is None:
            return None
        static = row.data.get("chunking_strategy", {}).get("static")
        strategy = ChunkingStrategy(**static) if static else AUTO
        return _Work(file.data["filename"], strategy, dict(row.data.get("attributes") or {}))

    async def _usage_bytes(self, job: Job) -> int:
        """The index's footprint of the file: its chunk texts and their vectors."""
        texts = await self.index.file_chunks(job.store_id, job.file_id)
        dimensions = getattr(self.embedder, "dimensions", 0) or 0
        return sum(len(text.encode()) for text in texts) + len(texts) * dimensions * FLOAT32_BYTES

    async def _record(
        self, job: Job, work: _Work, usage: int, error: tuple[str, str] | None
    ) -> None:
        try:
            async with self.db.write() as session:
                row = await vector_store_files.finish(
                    session, job.tenant, job.store_id, job.file_id, usage, error, self._worker
                )
                if row is not None:
                    await file_batches.refresh(session, job.tenant, row.batch_id)
                    attributes = dict(row.data.get("attributes") or {})
        except vector_store_files.ClaimLost:
            log.info("%s was taken over by another worker; its outcome is that one's", job)
            return
        if row is None:
            # Removed or cancelled while we worked: the chunks must not stay searchable.
            with contextlib.suppress(Exception):
                await self.index.delete_file(job.store_id, job.file_id)
        elif error is None and attributes != work.attributes:
            await self.index.update_attributes(job.store_id, job.file_id, attributes)
