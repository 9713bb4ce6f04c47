"""``/v1/files``: multipart upload streamed to the blob store, list, retrieve, delete, content."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.errors import validation_error
from assistantd.api.file_services import Blobs, Ingestion
from assistantd.api.streamed_form import clean_filename, read_form
from assistantd.errors import InvalidRequest
from assistantd.objects import files
from assistantd.retrieval import file_deletion
from assistantd.store.documents import PageRequest
from assistantd.wire.files import CreateFileForm, nest_form_fields

router = APIRouter(prefix="/files")


@router.post("")
async def create_file(request: Request, tenant: Tenant, db: Db, blobs: Blobs) -> dict[str, Any]:
    max_bytes = request.app.state.settings.max_file_bytes
    form = await read_form(request, blobs, "file", max_bytes)
    file_id = files.new_file_id()
    try:
        if form.blob is None or form.filename is None:
            raise InvalidRequest("Missing required parameter: 'file'.", "file")
        fields = _form_fields(form.fields)
        filename = clean_filename(form.filename)
        size = form.blob.size
        await form.blob.commit(file_id)
    finally:
        form.discard()
    seconds = fields.expires_after.seconds if fields.expires_after else None
    try:
        async with db.write() as session:
            return await files.create(
                session, tenant, file_id, filename, fields.purpose, size, seconds
            )
    except BaseException:
        await blobs.delete(file_id)
        raise


def _form_fields(fields: dict[str, str]) -> CreateFileForm:
    try:
        return CreateFileForm.model_validate(nest_form_fields(fields))
    except ValidationError as error:
        raise validation_error(error.errors()) from None


@router.get("")
async def list_files(
    tenant: Tenant,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
    order: Literal["asc", "desc"] = "desc",
    after: str | None = None,
    purpose: str | None = None,
) -> dict[str, Any]:
    request = PageRequest(limit=limit, order=order, after=after)
    async with db.read() as session:
        return (await files.list_page(session, tenant, request, purpose)).envelope()


@router.get("/{file_id}")
async def get_file(file_id: str, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.read() as session:
        return await files.get(session, tenant, file_id)


@router.delete("/{file_id}")
async def delete_file(file_id: str, tenant: Tenant, db: Db, ingestion: Ingestion) -> dict[str, Any]:
    await file_deletion.delete_file(db, ingestion, tenant, file_id)
    return files.deleted(file_id)


@router.get("/{file_id}/content")
async def get_file_content(file_id: str, tenant: Tenant, db: Db, blobs: Blobs) -> StreamingResponse:
    async with db.read() as session:
        data = await files.get(session, tenant, file_id)
    return StreamingResponse(
        blobs.iter_bytes(file_id),
        media_type="application/octet-stream",
        headers={"Content-Length": str(data["bytes"])},
    )
