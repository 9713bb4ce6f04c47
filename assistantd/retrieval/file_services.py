"""Start-up and shut-down of what files and vector stores need: the blob store, the chunk index,
the embedder, the ingestion worker and the file expiry sweep."""

from __future__ import annotations

from dataclasses import dataclass

from assistantd.config import Settings
from assistantd.retrieval.embedder import make_embedder
from assistantd.retrieval.file_expiry import FileExpirySweeper
from assistantd.retrieval.index_choice import open_chunk_index
from assistantd.retrieval.ingestion_worker import IngestionWorker
from assistantd.store.blobs import LocalBlobStore
from assistantd.store.database import Database

INDEX_FILENAME = "chunks.sqlite3"


@dataclass(frozen=True)
class FileServices:
    blobs: LocalBlobStore
    ingestion: IngestionWorker
    expiry: FileExpirySweeper

    async def stop(self) -> None:
        await self.expiry.stop()  # first: it deletes chunks from the index the worker closes
        await self.ingestion.stop()


async def start_file_services(settings: Settings, db: Database) -> FileServices:
    blobs = LocalBlobStore(settings.files_dir)
    blobs.discard_stale_staging()
    index = await open_chunk_index(db, settings.data_dir / INDEX_FILENAME)
    worker = IngestionWorker(
        db,
        blobs,
        index,
        make_embedder(settings),
        concurrency=settings.ingestion_workers,
        sweep_seconds=settings.ingestion_sweep_interval_seconds,
        lease_seconds=settings.ingestion_lease_seconds,
    )
    await worker.start()
    expiry = FileExpirySweeper(db, worker, settings.file_sweep_interval_seconds)
    expiry.start()
    return FileServices(blobs, worker, expiry)
