"""Types shared by several wire objects: metadata and the strict request base."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

METADATA_MAX_PAIRS = 16
METADATA_MAX_KEY = 64
METADATA_MAX_VALUE = 512


class Request(BaseModel):
    """A request body: unknown fields are an error (the spec's ``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid")

    def given(self) -> set[str]:
        """The fields the client actually sent (``null`` included)."""
        return set(self.model_fields_set)


def _check_metadata(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    if len(value) > METADATA_MAX_PAIRS:
        raise ValueError(f"metadata can have at most {METADATA_MAX_PAIRS} key-value pairs")
    for key, item in value.items():
        if len(key) > METADATA_MAX_KEY:
            raise ValueError(f"metadata keys can be at most {METADATA_MAX_KEY} characters long")
        if len(item) > METADATA_MAX_VALUE:
            raise ValueError(f"metadata values can be at most {METADATA_MAX_VALUE} characters long")
    return value


Metadata = Annotated[dict[str, str] | None, AfterValidator(_check_metadata)]

# A file id the client names. Every request field that takes one uses this type, so an empty id
# is refused where the body is read: the objects layer builds its own models from these ids
# (a batch's entries, an attachment's vector-store file) and must not find them invalid then.
FileId = Annotated[str, Field(min_length=1)]
