"""Request bodies for ``/assistants``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from assistantd.wire.common import Metadata, Request
from assistantd.wire.tools import ResponseFormat, Tool, ToolResources

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
Temperature = Annotated[float, Field(ge=0, le=2)]
TopP = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, Field(max_length=256)]
Description = Annotated[str, Field(max_length=512)]
Instructions = Annotated[str, Field(max_length=256_000)]


class CreateAssistant(Request):
    model: Annotated[str, Field(min_length=1)]
    name: Name | None = None
    description: Description | None = None
    instructions: Instructions | None = None
    reasoning_effort: ReasoningEffort | None = None
    tools: Annotated[list[Tool], Field(max_length=128)] = []
    tool_resources: ToolResources | None = None
    metadata: Metadata = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    response_format: ResponseFormat | None = None


class ModifyAssistant(Request):
    model: Annotated[str, Field(min_length=1)] | None = None
    name: Name | None = None
    description: Description | None = None
    instructions: Instructions | None = None
    reasoning_effort: ReasoningEffort | None = None
    tools: Annotated[list[Tool], Field(max_length=128)] | None = None
    tool_resources: ToolResources | None = None
    metadata: Metadata = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    response_format: ResponseFormat | None = None
