"""``/v1/uploads``: create, add parts (multipart ``data``), complete into a File, cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.file_services import Blobs
from assistantd.api.streamed_form import clean_filename, read_form
from assistantd.errors import InvalidRequest
from assistantd.ids import new_id
from assistantd.objects import files, uploads
from assistantd.store.blobs import BlobStore
from assistantd.wire.uploads import CompleteUpload, CreateUpload

router = APIRouter(prefix="/uploads")

MAX_PART_BYTES = 64 * 1024 * 1024


@router.post("")
async def create_upload(
    body: CreateUpload, request: Request, tenant: Tenant, db: Db
) -> dict[str, Any]:
    filename = clean_filename(body.filename, "filename")
    max_bytes = request.app.state.settings.max_file_bytes
    async with db.write() as session:
        return await uploads.create(session, tenant, body, filename, max_bytes)


@router.post("/{upload_id}/parts")
async def add_part(
    upload_id: str, request: Request, tenant: Tenant, db: Db, blobs: Blobs
) -> dict[str, Any]:
    async with db.read() as session:  # refuse early, before reading the body
        left = await uploads.room(session, tenant, upload_id)
    # Stops reading (and staging) the body at the first byte past what the upload can take;
    # add_part counts again under the upload's lock, for parts sent at once.
    form = await read_form(
        request,
        blobs,
        "data",
        min(MAX_PART_BYTES, left),
        on_too_large=lambda _: uploads.part_too_large(upload_id, left),
    )
    part_id = new_id("part_")
    try:
        if form.blob is None:
            raise InvalidRequest("Missing required parameter: 'data'.", "data")
        size = form.blob.size
        await form.blob.commit(part_id)
    finally:
        form.discard()
    try:
        async with db.write() as session:
            return await uploads.add_part(session, tenant, upload_id, part_id, size)
    except BaseException:
        await blobs.delete(part_id)
        raise


@router.post("/{upload_id}/complete")
async def complete_upload(
    upload_id: str, body: CompleteUpload, tenant: Tenant, db: Db, blobs: Blobs
) -> dict[str, Any]:
    async with db.read() as session:
        upload = await uploads.pending(session, tenant, upload_id)
        part_ids = await uploads.ordered_parts(session, tenant, upload_id, body.part_ids)
    file_id = files.new_file_id()
    await _assemble(blobs, part_ids, file_id, body.md5)
    try:
        async with db.write() as session:
            file = await files.create(
                session,
                tenant,
                file_id,
                upload["filename"],
                upload["purpose"],
                upload["bytes"],
                uploads.private(upload, "file_expires_after"),
            )
            completed = await uploads.complete(session, tenant, upload_id, file)
            leftovers = await uploads.take_parts(session, tenant, upload_id)
    except BaseException:
        await blobs.delete(file_id)
        raise
    for part_id in leftovers:
        await blobs.delete(part_id)
    return completed


async def _assemble(blobs: BlobStore, part_ids: list[str], file_id: str, md5: str | None) -> None:
    """Concatenate the parts into the file's blob, checking the client's MD5 if given."""
    staged = blobs.stage()
    try:
        for part_id in part_ids:
            async for chunk in blobs.iter_bytes(part_id):
                staged.write(chunk)
        if md5 is not None and md5.strip().lower() != staged.md5_hex():
            raise InvalidRequest(
                "The MD5 checksum of the assembled file does not match the 'md5' given.", "md5"
            )
        await staged.commit(file_id)
    finally:
        staged.discard()


@router.post("/{upload_id}/cancel")
async def cancel_upload(upload_id: str, tenant: Tenant, db: Db, blobs: Blobs) -> dict[str, Any]:
    async with db.write() as session:
        cancelled = await uploads.cancel(session, tenant, upload_id)
        leftovers = await uploads.take_parts(session, tenant, upload_id)
    for part_id in leftovers:
        await blobs.delete(part_id)
    return cancelled
