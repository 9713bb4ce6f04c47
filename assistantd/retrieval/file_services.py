"""Start-up and shut-down of what files and vector stores need: the blob store, the chunk index,
the embedder and the ingestion worker."""

from __future__ import annotations

from assistantd.config import Settings
from assistantd.retrieval.embedder import make_embedder
from assistantd.retrieval.ingestion_worker import IngestionWorker
from assistantd.retrieval.sqlite_index import SqliteChunkIndex
from assistantd.store.blobs import LocalBlobStore
from assistantd.store.database import Database

INDEX_FILENAME = "chunks.sqlite3"


async def start_file_services(
    settings: Settings, db: Database
) -> tuple[LocalBlobStore, IngestionWorker]:
    blobs = LocalBlobStore(settings.files_dir)
    blobs.discard_stale_staging()
    index = SqliteChunkIndex(settings.data_dir / INDEX_FILENAME)
    worker = IngestionWorker(
        db, blobs, index, make_embedder(settings), concurrency=settings.ingestion_workers
    )
    await worker.start()
    return blobs, worker
