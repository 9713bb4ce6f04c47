"""Tools that run inside the server (code_interpreter, file_search), as the engine sees them.

A server tool is offered to the model as a chat function; when the model calls it, the engine
runs it, records ``step_entry`` in the run's tool_calls step and gives ``output`` back to the
model, then continues the run without ``requires_action``. Tools of a type nobody registered
are left out of the prompt (``tools/registry.py``).

The interface lives with the tools, not with the engine, so that the tools implement it without
importing the run engine that sits above them; the engine imports it downward.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from assistantd.config import Settings
from assistantd.store.database import Database
from assistantd.store.sessions import AsyncSession


@dataclass(frozen=True)
class ToolCall:
    """A call the model made: its id, the chat function name and the raw JSON arguments."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ToolContext:
    db: Database
    settings: Settings
    tenant: str
    thread_id: str
    run_id: str
    assistant_id: str
    model: str  # the run's model, as the client named it
    tool: dict[str, Any]  # the tool's definition on the run, e.g. {"type": "file_search", ...}
    tool_resources: dict[str, Any]  # the run's resources: thread's over assistant's, per tool
    include: frozenset[str]  # the run's include[] values


@dataclass(frozen=True)
class ServerToolResult:
    step_entry: dict[str, Any]  # e.g. {"id", "type": "code_interpreter", "code_interpreter": …}
    output: str  # what the model is told the call returned


class ServerTool(Protocol):
    type: str  # the tool type it implements: "code_interpreter" or "file_search"

    def chat_function(self, tool: dict[str, Any]) -> dict[str, Any]:
        """The chat-completions tool for this definition:
        ``{"type": "function", "function": {"name", "description", "parameters"}}``."""
        ...

    async def run(self, call: ToolCall, context: ToolContext) -> ServerToolResult: ...


@dataclass(frozen=True)
class AnnotationContext:
    """What an annotator may look at when an assistant message of a run is completed."""

    session: AsyncSession  # a read, before the message is completed: what earlier turns wrote
    tenant: str
    run_id: str
    tool_calls: list[dict[str, Any]]  # every tool-call entry of the run's steps so far, in order


class MessageAnnotator(Protocol):
    """A server tool that turns its traces in the model's text into message content: source
    markers into ``file_citation`` annotations, ``sandbox:/mnt/data/…`` links into ``file_path``
    annotations, generated images into ``image_file`` parts."""

    async def annotate(
        self, content: list[dict[str, Any]], context: AnnotationContext
    ) -> list[dict[str, Any]]: ...
