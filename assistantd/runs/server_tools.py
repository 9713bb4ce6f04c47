"""Tools that run inside the server (code_interpreter, file_search), as the engine sees them.

A server tool is offered to the model as a chat function; when the model calls it, the engine
runs it, records ``step_entry`` in the run's tool_calls step and gives ``output`` back to the
model, then continues the run without ``requires_action``. Tools of a type nobody registered
are left out of the prompt.

    engine.server_tools.register(MyFileSearch())
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from assistantd.config import Settings
from assistantd.store.database import Database


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


class ServerToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, ServerTool] = {}

    def register(self, tool: ServerTool) -> None:
        self._tools[tool.type] = tool

    def get(self, tool_type: str) -> ServerTool | None:
        return self._tools.get(tool_type)
