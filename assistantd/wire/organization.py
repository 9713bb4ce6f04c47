"""Request bodies of the Administration API (``/v1/organization/projects…``), as OpenAI's."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from assistantd.wire.common import Request

Name = Annotated[str, Field(min_length=1, max_length=256)]
Limit = Annotated[int, Field(ge=0)]


class CreateProject(Request):
    name: Name


class ModifyProject(Request):
    name: Name


class CreateServiceAccount(Request):
    name: Name


class ModifyRateLimit(Request):
    """The limits assistantd enforces; ``null`` (or never set) means no limit. OpenAI's other
    limits (images, audio, per day, batch) are accepted and not enforced, so not stored."""

    max_requests_per_1_minute: Limit | None = None
    max_tokens_per_1_minute: Limit | None = None
    max_images_per_1_minute: Limit | None = None
    max_audio_megabytes_per_1_minute: Limit | None = None
    max_requests_per_1_day: Limit | None = None
    batch_1_day_max_input_tokens: Limit | None = None
