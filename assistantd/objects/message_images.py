"""Image files in message content (``image_file`` parts): what a file must be for a message to
name it, and an image's bytes as the data URL a model is sent.

A message naming a file that does not exist (or has expired), is not a PNG, JPEG, GIF or WebP
image (told by its bytes' signature, not its filename), or is larger than ``MAX_IMAGE_BYTES`` is
refused with a 400 at creation, in the creating transaction, so nothing of it is written.
"""

from __future__ import annotations

import base64
from typing import Any

import filetype

from assistantd.errors import InvalidRequest
from assistantd.objects import files
from assistantd.store.blobs import BlobStore
from assistantd.store.sessions import AsyncSession

# The image types OpenAI's vision models take (the spec's image_url: jpeg, png, gif, webp), by the
# MIME type ``filetype`` tells from the signature. An animated PNG is a PNG to a model.
MIME_TYPES = {
    "image/png": "image/png",
    "image/apng": "image/png",
    "image/jpeg": "image/jpeg",
    "image/gif": "image/gif",
    "image/webp": "image/webp",
}
# OpenAI's documented limit for one image sent to a vision model. As a base64 data URL it grows
# by a third, so one request stays well within what model servers accept.
MAX_IMAGE_BYTES = 20 * 1024 * 1024
# How much of a file ``filetype`` looks at (an APNG's animation chunk may come after others).
SIGNATURE_BYTES = 8192


def image_file_ids(content: list[dict[str, Any]]) -> list[str]:
    return [part["image_file"]["file_id"] for part in content if part["type"] == "image_file"]


def mime_type(head: bytes) -> str | None:
    """The image's MIME type from its first bytes, or None if it is no image a model takes."""
    kind = filetype.image_match(head)
    return MIME_TYPES.get(kind.mime) if kind is not None else None


def data_url(image: bytes) -> str | None:
    """``data:<mime>;base64,…`` for an image a model takes, else None."""
    mime = mime_type(image[:SIGNATURE_BYTES])
    if mime is None or len(image) > MAX_IMAGE_BYTES:
        return None
    return f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"


async def check(
    session: AsyncSession,
    blobs: BlobStore,
    tenant: str,
    content: list[dict[str, Any]],
    param: str,
) -> None:
    """Refuse (400) the content if an ``image_file`` part names no usable image; ``param`` is
    where the content is in the request (``content``, ``messages[0].content``, …)."""
    wanted = image_file_ids(content)
    if not wanted:
        return
    found = await files.get_many(session, tenant, wanted)
    for index, part in enumerate(content):
        if part["type"] == "image_file":
            file_id = part["image_file"]["file_id"]
            where = f"{param}[{index}].image_file.file_id"
            await _check_one(blobs, found.get(file_id), file_id, where)


async def _check_one(
    blobs: BlobStore, record: dict[str, Any] | None, file_id: str, where: str
) -> None:
    if record is None:
        raise _invalid(where, f"no file found with id '{file_id}'")
    if record["bytes"] > MAX_IMAGE_BYTES:
        raise _invalid(
            where,
            f"file '{file_id}' is {record['bytes']} bytes; an image may be at most "
            f"{MAX_IMAGE_BYTES // (1024 * 1024)} MB",
        )
    try:
        head = await blobs.head(file_id, SIGNATURE_BYTES)
    except FileNotFoundError:
        raise _invalid(where, f"no file found with id '{file_id}'") from None
    if mime_type(head) is None:
        raise _invalid(where, f"file '{file_id}' is not a PNG, JPEG, GIF or WebP image")


def _invalid(where: str, reason: str) -> InvalidRequest:
    return InvalidRequest(f"Invalid '{where}': {reason}.", where, "invalid_value")
