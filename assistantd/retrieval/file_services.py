"""Start-up and shut-down of what files and vector stores need: the blob store, the chunk index,
the embedder, the ingestion worker and the file expiry sweep."""

from __future__ import annotations

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
        await worker.start()
    expiry = FileExpirySweeper(db, worker, settings.file_sweep_interval_seconds)
    expiry.start()
    return FileServices(blobs, worker, expiry)
