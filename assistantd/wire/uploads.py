"""Request bodies for ``/uploads``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from assistantd.wire.common import Request
from assistantd.wire.files import FileExpiresAfter, FilePurpose


class CreateUpload(Request):
    filename: Annotated[str, Field(min_length=1)]
    purpose: FilePurpose
    bytes: Annotated[int, Field(ge=0)]
    mime_type: Annotated[str, Field(min_length=1)]
    expires_after: FileExpiresAfter | None = None


class CompleteUpload(Request):
    part_ids: list[str]
    md5: str | None = None
