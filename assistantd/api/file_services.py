"""The blob store and the ingestion worker, as request dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request

from assistantd.objects.thread_store import IngestionJob
from assistantd.retrieval.ingestion_worker import IngestionWorker
from assistantd.store.blobs import BlobStore
from assistantd.store.database import Database
from assistantd.store.sessions import Transaction


# async: FastAPI runs a plain function dependency in its threadpool (a hop per request, and
# create run is a hot path).
async def blob_store(request: Request) -> BlobStore:
    return request.app.state.blobs


async def ingestion_worker(request: Request) -> IngestionWorker:
    return request.app.state.ingestion


Blobs = Annotated[BlobStore, Depends(blob_store)]
Ingestion = Annotated[IngestionWorker, Depends(ingestion_worker)]


@asynccontextmanager
async def write_indexing_attachments(
    db: Database, ingestion: IngestionWorker, *, orm: bool = True
) -> AsyncIterator[tuple[Transaction, list[IngestionJob]]]:
    """A write that may add messages, and the list their file_search attachments' jobs go in
    (the files, added to the thread's vector store in the write): the jobs go to the ingestion
    worker once the write has committed. ``orm=False``: see ``Database.write``."""
    jobs: list[IngestionJob] = []
    async with db.write(orm=orm) as session:
        yield session, jobs
    for job in jobs:
        ingestion.enqueue(job.tenant, job.store_id, job.file_id)
