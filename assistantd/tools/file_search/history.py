"""The thread's file_search calls so far, in the order they were made (what markers number)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store.tables import RunStep


async def file_search_calls(
    session: AsyncSession, tenant: str, thread_id: str
) -> list[dict[str, Any]]:
    """Every recorded file_search entry of the thread's tool_calls steps, oldest first.

    A turn's entries are recorded when its tool calls are done, so while a turn runs its own
    calls are not here yet.
    """
    query = (
        select(RunStep.data)
        .where(
            RunStep.tenant == tenant,
            RunStep.thread_id == thread_id,
            RunStep.engine.is_not(None),  # only tool_calls steps carry engine data
        )
        .order_by(RunStep.seq)
    )
    calls = []
    for data in (await session.execute(query)).scalars():
        details = data.get("step_details") or {}
        if details.get("type") == "tool_calls":
            calls += [c for c in details["tool_calls"] if c.get("type") == "file_search"]
    return calls
