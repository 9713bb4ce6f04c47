"""The blob store and the ingestion worker, as request dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from assistantd.retrieval.ingestion_worker import IngestionWorker
from assistantd.store.blobs import BlobStore


# async: FastAPI runs a plain function dependency in its threadpool (a hop per request, and
# create run is a hot path).
async def blob_store(request: Request) -> BlobStore:
    return request.app.state.blobs


async def ingestion_worker(request: Request) -> IngestionWorker:
    return request.app.state.ingestion


Blobs = Annotated[BlobStore, Depends(blob_store)]
Ingestion = Annotated[IngestionWorker, Depends(ingestion_worker)]
