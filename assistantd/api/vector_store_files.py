"""``/v1/vector_stores/{id}/files`` and ``…/file_batches``.

Responses about files or batches still being indexed carry ``openai-poll-after-ms``, which the
SDK's ``…_and_poll`` helpers use as their polling interval.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.file_services import Blobs, Ingestion
from assistantd.api.pagination import ListParams
from assistantd.objects import file_batches, vector_store_files, vector_stores
from assistantd.retrieval import file_content
from assistantd.wire.vector_stores import (
    CreateFileBatch,
    CreateVectorStoreFile,
    UpdateVectorStoreFile,
)

router = APIRouter(prefix="/vector_stores/{vector_store_id}")


def _poll_hint(request: Request, response: Response, data: dict[str, Any]) -> dict[str, Any]:
    if data.get("status") == "in_progress":
        response.headers["openai-poll-after-ms"] = str(request.app.state.settings.poll_after_ms)
    return data


@router.post("/files")
async def add_file(
    vector_store_id: str,
    body: CreateVectorStoreFile,
    request: Request,
    response: Response,
    tenant: Tenant,
    db: Db,
    ingestion: Ingestion,
) -> dict[str, Any]:
    async with db.write() as session:
        await vector_stores.require(session, tenant, vector_store_id)
        data = await vector_store_files.add(session, tenant, vector_store_id, body)
        await vector_stores.refresh(session, tenant, vector_store_id)
    ingestion.enqueue(tenant, vector_store_id, body.file_id)
    return _poll_hint(request, response, data)


@router.get("/files")
async def list_files(
    vector_store_id: str, tenant: Tenant, db: Db, params: ListParams, filter: str | None = None
) -> dict[str, Any]:
    status = vector_store_files.check_status_filter(filter)
    async with db.read() as session:
        await vector_stores.require(session, tenant, vector_store_id)
        page = await vector_store_files.list_page(session, tenant, vector_store_id, params, status)
    return page.envelope()


@router.get("/files/{file_id}")
async def get_file(
    vector_store_id: str,
    file_id: str,
    request: Request,
    response: Response,
    tenant: Tenant,
    db: Db,
) -> dict[str, Any]:
    async with db.read() as session:
        data = await vector_store_files.get(session, tenant, vector_store_id, file_id)
    return _poll_hint(request, response, data)


@router.post("/files/{file_id}")
async def update_file(
    vector_store_id: str,
    file_id: str,
    body: UpdateVectorStoreFile,
    tenant: Tenant,
    db: Db,
    ingestion: Ingestion,
) -> dict[str, Any]:
    attributes = body.attributes or {}
    async with db.write() as session:
        data = await vector_store_files.update_attributes(
            session, tenant, vector_store_id, file_id, attributes
        )
    if data["status"] == "completed":
        await ingestion.index.update_attributes(vector_store_id, file_id, attributes)
    return data


@router.delete("/files/{file_id}")
async def remove_file(
    vector_store_id: str, file_id: str, tenant: Tenant, db: Db, ingestion: Ingestion
) -> dict[str, Any]:
    async with db.write() as session:
        deleted = await vector_store_files.remove(session, tenant, vector_store_id, file_id)
    await ingestion.forget(vector_store_id, file_id)
    return deleted


@router.get("/files/{file_id}/content")
async def get_file_content(
    vector_store_id: str, file_id: str, tenant: Tenant, db: Db, blobs: Blobs
) -> dict[str, Any]:
    """The file's parsed text (what was chunked), as one page."""
    return await file_content.content_page(db, blobs, tenant, vector_store_id, file_id)


@router.post("/file_batches")
async def create_batch(
    vector_store_id: str,
    body: CreateFileBatch,
    request: Request,
    response: Response,
    tenant: Tenant,
    db: Db,
    ingestion: Ingestion,
) -> dict[str, Any]:
    async with db.write() as session:
        batch, file_ids = await file_batches.create(session, tenant, vector_store_id, body)
    for file_id in file_ids:
        ingestion.enqueue(tenant, vector_store_id, file_id)
    return _poll_hint(request, response, batch)


@router.get("/file_batches/{batch_id}")
async def get_batch(
    vector_store_id: str,
    batch_id: str,
    request: Request,
    response: Response,
    tenant: Tenant,
    db: Db,
) -> dict[str, Any]:
    async with db.read() as session:
        batch = await file_batches.get(session, tenant, vector_store_id, batch_id)
    return _poll_hint(request, response, batch)


@router.post("/file_batches/{batch_id}/cancel")
async def cancel_batch(
    vector_store_id: str, batch_id: str, tenant: Tenant, db: Db, ingestion: Ingestion
) -> dict[str, Any]:
    async with db.write() as session:
        batch, cancelled = await file_batches.cancel(session, tenant, vector_store_id, batch_id)
    for file_id in cancelled:
        await ingestion.forget(vector_store_id, file_id)
    return batch


@router.get("/file_batches/{batch_id}/files")
async def list_batch_files(
    vector_store_id: str,
    batch_id: str,
    tenant: Tenant,
    db: Db,
    params: ListParams,
    filter: str | None = None,
) -> dict[str, Any]:
    status = vector_store_files.check_status_filter(filter)
    async with db.read() as session:
        await file_batches.require(session, tenant, vector_store_id, batch_id)
        page = await vector_store_files.list_page(
            session, tenant, vector_store_id, params, status, batch_id
        )
    return page.envelope()
