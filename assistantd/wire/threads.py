"""Request bodies for ``/threads``."""

from __future__ import annotations

from pydantic import Field

from assistantd.wire.common import Metadata, Request
from assistantd.wire.messages import CreateMessage
from assistantd.wire.tools import ToolResources


class CreateThread(Request):
    messages: list[CreateMessage] = Field(default_factory=list)
    tool_resources: ToolResources | None = None
    metadata: Metadata = None


class ModifyThread(Request):
    tool_resources: ToolResources | None = None
    metadata: Metadata = None
