"""Request bodies for ``/threads/{thread_id}/messages``, and message content as stored."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistantd.wire.common import FileId, Metadata, Request


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImageFile(Strict):
    file_id: FileId
    detail: Literal["auto", "low", "high"] = "auto"


class ImageUrl(Strict):
    url: Annotated[str, Field(min_length=1)]
    detail: Literal["auto", "low", "high"] = "auto"


class ImageFilePart(Strict):
    type: Literal["image_file"]
    image_file: ImageFile


class ImageUrlPart(Strict):
    type: Literal["image_url"]
    image_url: ImageUrl


class TextPart(Strict):
    type: Literal["text"]
    text: str


ContentPart = Annotated[ImageFilePart | ImageUrlPart | TextPart, Field(discriminator="type")]


class AttachmentTool(Strict):
    type: Literal["code_interpreter", "file_search"]


class Attachment(Strict):
    file_id: FileId
    tools: list[AttachmentTool] = []


class CreateMessage(Request):
    role: Literal["user", "assistant"]
    content: str | Annotated[list[ContentPart], Field(min_length=1)]
    attachments: list[Attachment] | None = None
    metadata: Metadata = None


class ModifyMessage(Request):
    metadata: Metadata = None


def content_to_wire(content: str | list[Any]) -> list[dict[str, Any]]:
    """Request content (a string or parts) as response content parts."""
    if isinstance(content, str):
        return [text_part(content)]
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append(text_part(part.text))
        else:
            parts.append(part.model_dump())
    return parts


def text_part(value: str, annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": annotations or []}}


def attachments_to_wire(attachments: list[Attachment] | None) -> list[dict[str, Any]] | None:
    if attachments is None:
        return None
    return [attachment.model_dump() for attachment in attachments]
