"""The images of a prompt's user messages: before the prompt is fitted, which files named by
``image_file`` parts still exist; once it is fitted, the bytes of the images it kept, inlined as
chat-completions ``image_url`` parts with a ``data:`` URL (``detail`` passed through), so a
model server needs no access to assistantd's files and only images that are sent are read.

Nothing is cached: each model turn reads the images it sends again, which costs little beside
the model reading them, and holds no image in memory between runs.
"""

from __future__ import annotations

import logging
from typing import Any

from assistantd.objects import files, message_images
from assistantd.runs.prompt import HistoryMessage
from assistantd.store.blobs import BlobStore
from assistantd.store.database import Database

log = logging.getLogger(__name__)


async def live_images(db: Database, tenant: str, history: list[HistoryMessage]) -> frozenset[str]:
    """The ids of the files that the user messages' ``image_file`` parts name and that exist."""
    wanted = [
        file_id
        for message in history
        if message.data["role"] == "user"
        for file_id in message_images.image_file_ids(message.data["content"])
    ]
    if not wanted:
        return frozenset()
    async with db.read() as session:
        found = await files.get_many(session, tenant, wanted)
    if gone := sorted(set(wanted) - found.keys()):
        log.info("image files %s are gone; their messages go to the model without them", gone)
    return frozenset(found)


async def inline_images(blobs: BlobStore, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` with their ``image_file`` parts as ``image_url`` parts carrying the bytes."""
    wanted = {
        part["image_file"]["file_id"]
        for message in messages
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if part["type"] == "image_file"
    }
    if not wanted:
        return messages
    urls = {file_id: await _data_url(blobs, file_id) for file_id in wanted}
    return [inlined for message in messages if (inlined := _inlined(message, urls)) is not None]


async def _data_url(blobs: BlobStore, file_id: str) -> str | None:
    try:
        url = message_images.data_url(await blobs.read(file_id))
    except FileNotFoundError:  # deleted since the prompt was fitted
        url = None
    if url is None:
        log.info("image file %s is gone or no image; its message goes without it", file_id)
    return url


def _inlined(message: dict[str, Any], urls: dict[str, str | None]) -> dict[str, Any] | None:
    """The message with its images inlined; None if nothing of it is left to send."""
    content = message.get("content")
    if not isinstance(content, list):
        return message
    parts: list[dict[str, Any]] = []
    for part in content:
        if part["type"] != "image_file":
            parts.append(part)
        elif (url := urls[part["image_file"]["file_id"]]) is not None:
            image_url = {"url": url}
            if detail := part["image_file"].get("detail"):
                image_url["detail"] = detail
            parts.append({"type": "image_url", "image_url": image_url})
    return {**message, "content": parts} if parts else None
