"""The thread's file_search calls so far, in the order they were made (what markers number)."""

from __future__ import annotations

from typing import Any

from assistantd.store.runs import engine_steps_data
from assistantd.store.sessions import AsyncSession


async def file_search_calls(
    session: AsyncSession, tenant: str, thread_id: str
) -> list[dict[str, Any]]:
    """Every recorded file_search entry of the thread's tool_calls steps, oldest first.

    A turn's entries are recorded when its tool calls are done, so while a turn runs its own
    calls are not here yet.
    """
    calls = []
    for data in await engine_steps_data(session, tenant, thread_id):
        details = data.get("step_details") or {}
        if details.get("type") == "tool_calls":
            calls += [c for c in details["tool_calls"] if c.get("type") == "file_search"]
    return calls
