"""Form fields of ``POST /files`` (multipart, so checked here rather than by FastAPI)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

FilePurpose = Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]


class FileExpiresAfter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    anchor: Literal["created_at"]
    seconds: Annotated[int, Field(ge=3600, le=2_592_000)]


class CreateFileForm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: FilePurpose
    expires_after: FileExpiresAfter | None = None


def nest_form_fields(fields: dict[str, str]) -> dict[str, object]:
    """``expires_after[seconds]=3600`` (the SDK's flattening of objects in forms) as dicts."""
    nested: dict[str, object] = {}
    for key, value in fields.items():
        outer, bracket, inner = key.partition("[")
        if bracket and inner.endswith("]"):
            group = nested.setdefault(outer, {})
            if isinstance(group, dict):
                group[inner[:-1]] = value
        else:
            nested[key] = value
    return nested
