"""Run steps: read and list. The engine writes them (``assistantd.runs.records``)."""

from __future__ import annotations

from typing import Any

from assistantd.errors import InvalidRequest, NotFound
from assistantd.objects.runs import get_row as get_run_row
from assistantd.store import documents
from assistantd.store.documents import Page, PageRequest
from assistantd.store.sessions import AsyncSession
from assistantd.store.tables import RunStep
from assistantd.wire.runs import FILE_SEARCH_CONTENT

KIND = "run step"


def check_include(include: list[str] | None) -> frozenset[str]:
    """The ``include[]`` values, of which OpenAI knows exactly one."""
    for position, value in enumerate(include or ()):
        if value != FILE_SEARCH_CONTENT:
            raise InvalidRequest(
                f"Invalid value: '{value}'. Supported values are: ['{FILE_SEARCH_CONTENT}'].",
                f"include[{position}]",
            )
    return frozenset(include or ())


async def get(
    session: AsyncSession,
    tenant: str,
    thread_id: str,
    run_id: str,
    step_id: str,
    include: frozenset[str],
) -> dict[str, Any]:
    row = await documents.fetch(
        session, RunStep, tenant, step_id, thread_id=thread_id, run_id=run_id
    )
    if row is None:
        raise NotFound.object(KIND, step_id)
    return for_wire(row.data, include)


async def list_page(
    session: AsyncSession,
    tenant: str,
    thread_id: str,
    run_id: str,
    request: PageRequest,
    include: frozenset[str],
) -> Page:
    await get_run_row(session, tenant, thread_id, run_id)
    page = await documents.page(session, RunStep, tenant, request, run_id=run_id)
    return Page(data=[for_wire(step, include) for step in page.data], has_more=page.has_more)


def for_wire(step: dict[str, Any], include: frozenset[str]) -> dict[str, Any]:
    """The step as returned: file_search result contents only when asked for."""
    if FILE_SEARCH_CONTENT in include or step["type"] != "tool_calls":
        return step
    calls = step["step_details"]["tool_calls"]
    if not any(call["type"] == "file_search" for call in calls):
        return step
    stripped = [_without_content(call) if call["type"] == "file_search" else call for call in calls]
    return {**step, "step_details": {**step["step_details"], "tool_calls": stripped}}


def _without_content(call: dict[str, Any]) -> dict[str, Any]:
    search = dict(call.get("file_search") or {})
    if "results" in search:
        search["results"] = [
            {key: value for key, value in result.items() if key != "content"}
            for result in search["results"]
        ]
    return {**call, "file_search": search}
