"""Uploads: a file sent in parts, assembled into a File on completion.

Each part's bytes are a blob of their own (keyed by part id); ``complete`` concatenates them,
in the order given, into the new file's blob. Keys of ``data`` that start with ``_`` are ours,
never shown to clients.
"""

from __future__ import annotations

from typing import Any

from assistantd.clock import now
from assistantd.errors import InvalidRequest, NotFound
from assistantd.ids import new_id
from assistantd.store import documents, upload_part_queries
from assistantd.store.file_tables import Upload, UploadPart
from assistantd.store.sessions import AsyncSession
from assistantd.wire.uploads import CreateUpload

KIND = "upload"
EXPIRES_AFTER_SECONDS = 3600
MAX_UPLOAD_BYTES = 8 * 1024**3


async def create(
    session: AsyncSession, tenant: str, body: CreateUpload, filename: str, max_bytes: int
) -> dict[str, Any]:
    limit = min(max_bytes, MAX_UPLOAD_BYTES)
    if body.bytes > limit:
        raise InvalidRequest(
            f"The upload is too large: at most {limit} bytes are allowed, not {body.bytes}.",
            "bytes",
        )
    created_at = now()
    data: dict[str, Any] = {
        "id": new_id("upload_"),
        "object": "upload",
        "created_at": created_at,
        "filename": filename,
        "bytes": body.bytes,
        "purpose": body.purpose,
        "status": "pending",
        "expires_at": created_at + EXPIRES_AFTER_SECONDS,
        "file": None,
        "_mime_type": body.mime_type,
        "_file_expires_after": body.expires_after.seconds if body.expires_after else None,
    }
    await documents.add(
        session, Upload, id=data["id"], tenant=tenant, created_at=created_at, data=data
    )
    return present(data)


async def pending(session: AsyncSession, tenant: str, upload_id: str) -> dict[str, Any]:
    """The upload, locked; raises unless it still takes parts."""
    row = await _row(session, tenant, upload_id, lock=True)
    data = present(row.data)
    if data["status"] != "pending":
        raise InvalidRequest(
            f"Upload {upload_id} is {data['status']}; only pending uploads can be changed.",
            None,
        )
    return row.data


async def room(session: AsyncSession, tenant: str, upload_id: str) -> int:
    """How many more bytes the pending upload's parts may hold: its ``bytes`` less what its
    parts hold (``bytes`` itself is within ``ASSISTANTD_MAX_FILE_BYTES``)."""
    upload = await pending(session, tenant, upload_id)
    return upload["bytes"] - await upload_part_queries.received_bytes(session, tenant, upload_id)


async def add_part(
    session: AsyncSession, tenant: str, upload_id: str, part_id: str, size: int
) -> dict[str, Any]:
    """Record a part; refused if the parts would hold more than the upload's ``bytes``. Counted
    with the upload's row locked, so parts sent at once cannot together pass it."""
    left = await room(session, tenant, upload_id)
    if size > left:
        raise part_too_large(upload_id, left)
    created_at = now()
    data = {
        "id": part_id,
        "object": "upload.part",
        "created_at": created_at,
        "upload_id": upload_id,
    }
    await documents.add(
        session,
        UploadPart,
        id=part_id,
        tenant=tenant,
        created_at=created_at,
        upload_id=upload_id,
        bytes=size,
        data=data,
    )
    return data


def part_too_large(upload_id: str, left: int) -> InvalidRequest:
    return InvalidRequest(
        f"The part is too large: upload {upload_id} can take at most {left} more bytes, the "
        "bytes it was created with less what its parts already hold.",
        "data",
    )


async def ordered_parts(
    session: AsyncSession, tenant: str, upload_id: str, part_ids: list[str]
) -> list[str]:
    """Check the parts to assemble: all of this upload, each once, summing to its ``bytes``."""
    upload = await pending(session, tenant, upload_id)
    if len(set(part_ids)) != len(part_ids):
        raise InvalidRequest("Each part may be listed only once.", "part_ids")
    sizes = await upload_part_queries.part_sizes(session, tenant, upload_id)
    unknown = [part_id for part_id in part_ids if part_id not in sizes]
    if unknown:
        raise InvalidRequest(f"No part {unknown[0]!r} in upload {upload_id}.", "part_ids")
    total = sum(sizes[part_id] for part_id in part_ids)
    if total != upload["bytes"]:
        raise InvalidRequest(
            f"The parts hold {total} bytes, but the upload was created with bytes="
            f"{upload['bytes']}.",
            "part_ids",
        )
    return part_ids


async def complete(
    session: AsyncSession, tenant: str, upload_id: str, file: dict[str, Any]
) -> dict[str, Any]:
    await pending(session, tenant, upload_id)
    row = await _row(session, tenant, upload_id)
    data = dict(row.data) | {"status": "completed", "file": file}
    documents.replace_data(row, data)
    return present(data)


async def cancel(session: AsyncSession, tenant: str, upload_id: str) -> dict[str, Any]:
    await pending(session, tenant, upload_id)
    row = await _row(session, tenant, upload_id)
    data = dict(row.data) | {"status": "cancelled"}
    documents.replace_data(row, data)
    return present(data)


async def take_parts(session: AsyncSession, tenant: str, upload_id: str) -> list[str]:
    """Forget the upload's parts; returns their ids, whose blobs the caller deletes."""
    part_ids = await upload_part_queries.upload_part_ids(session, tenant, upload_id)
    await documents.remove_where(session, UploadPart, tenant=tenant, upload_id=upload_id)
    return part_ids


def private(data: dict[str, Any], key: str) -> Any:
    return data.get(f"_{key}")


def present(data: dict[str, Any]) -> dict[str, Any]:
    shown = {key: value for key, value in data.items() if not key.startswith("_")}
    if shown["status"] == "pending" and shown["expires_at"] <= now():
        shown["status"] = "expired"
    return shown


async def _row(session: AsyncSession, tenant: str, upload_id: str, lock: bool = False) -> Upload:
    fetch = documents.fetch_for_update if lock else documents.fetch
    row = await fetch(session, Upload, tenant, upload_id)
    if row is None:
        raise NotFound.object(KIND, upload_id)
    return row
