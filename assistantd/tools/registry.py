"""The server tools a run engine offers, by tool type; the composition registers them::

engine.server_tools.register(MyFileSearch())
"""

from __future__ import annotations

from assistantd.tools.interface import MessageAnnotator, ServerTool


class ServerToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, ServerTool] = {}

    def register(self, tool: ServerTool) -> None:
        self._tools[tool.type] = tool

    def get(self, tool_type: str) -> ServerTool | None:
        return self._tools.get(tool_type)

    def annotators(self) -> list[MessageAnnotator]:
        """The registered tools that also annotate messages (they have an ``annotate`` method)."""
        return [tool for tool in self._tools.values() if hasattr(tool, "annotate")]  # type: ignore[misc]
