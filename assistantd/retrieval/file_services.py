"""Start-up and shut-down of what files and vector stores need: the blob store, the chunk index,
the embedder, the ingestion worker and the file expiry sweep."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from assistantd.config import Settings
from assistantd.retrieval.embedder import make_embedder
from assistantd.retrieval.file_expiry import FileExpirySweeper
from assistantd.retrieval.index_choice import open_chunk_index
from assistantd.retrieval.ingestion_worker import IngestionWorker
from assistantd.retrieval.parse_limits import ParseLimits
from assistantd.store.blob_stores import open_blob_store
from assistantd.store.blobs import BlobStore
from assistantd.store.database import Database

INDEX_FILENAME = "chunks.sqlite3"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileServices:
    blobs: BlobStore
    ingestion: IngestionWorker
    expiry: FileExpirySweeper

    async def stop(self) -> None:
        await self.expiry.stop()  # first: it deletes chunks from the index the worker closes
        await self.ingestion.stop()
        await self.blobs.close()


async def start_file_services(
    settings: Settings, db: Database, *, execute: bool = True
) -> FileServices:
    """``execute``: index vector-store files in this process (else only search and hand files
    over: a worker process indexes them, found by its sweep)."""
    blobs = await open_blob_store(settings.blob_url, settings.files_dir)
    index = await open_chunk_index(db, settings.data_dir / INDEX_FILENAME)
    worker = IngestionWorker(
        db,
        blobs,
        index,
        make_embedder(settings),
        concurrency=settings.ingestion_workers,
        sweep_seconds=settings.ingestion_sweep_interval_seconds,
        limits=ParseLimits(max_expanded_bytes=settings.max_parsed_bytes),
        lease_seconds=settings.ingestion_lease_seconds,
    )
    if execute:
        _prepare_in_background(worker.embedder)
        await worker.start()
    expiry = FileExpirySweeper(db, worker, settings.file_sweep_interval_seconds)
    expiry.start()
    return FileServices(blobs, worker, expiry)


def _prepare_in_background(embedder: object) -> None:
    """Build the local model's file now, on a thread of its own, if the cache lacks it (say,
    after a cache wipe or on a CPU of the other int8 kind), so that the first file indexed
    does not wait for a build; a file being indexed meanwhile waits for this build, never
    starts a second one. Daemon: a stop does not wait for it (the build is a child process
    writing to a scratch file, renamed into place only when whole)."""
    prepare = getattr(embedder, "prepare", None)
    if prepare is None:
        return

    def run() -> None:
        try:
            prepare()
        except Exception as error:  # said again, as the file's failure, when one is indexed
            log.warning("the local embedding model is not usable: %s", error)

    threading.Thread(target=run, name="embedding-model", daemon=True).start()
