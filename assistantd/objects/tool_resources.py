"""``tool_resources`` as stored and echoed:
``{code_interpreter: {file_ids}, file_search: {vector_store_ids}}``."""

from __future__ import annotations

from typing import Any

from assistantd.errors import InvalidRequest
from assistantd.wire.tools import ToolResources


def tool_resources_to_wire(
    resources: ToolResources | None, current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The resources to store; lists given replace the current ones, tool by tool."""
    wire: dict[str, Any] = dict(current or {})
    if resources is None:
        return wire
    if resources.code_interpreter is not None:
        wire["code_interpreter"] = {"file_ids": list(resources.code_interpreter.file_ids)}
    if resources.file_search is not None:
        if resources.file_search.vector_stores:
            # Creating stores on the fly needs the vector-store service (not built yet).
            raise InvalidRequest(
                "tool_resources.file_search.vector_stores is not supported yet; create the vector "
                "store first and pass its id in vector_store_ids.",
                "tool_resources.file_search.vector_stores",
            )
        wire["file_search"] = {
            "vector_store_ids": list(resources.file_search.vector_store_ids or [])
        }
    return wire
