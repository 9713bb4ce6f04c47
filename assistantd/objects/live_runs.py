"""The runs in progress across every project, for the admin (an assistantd extension: OpenAI
has no such list). Each item is the run object as its project reads it, plus ``project_id``."""

from __future__ import annotations

from assistantd.errors import InvalidRequest
from assistantd.store import run_statuses
from assistantd.store.database import Database
from assistantd.store.documents import Page
from assistantd.store.live_runs import STATUS_PARAMS, live_runs

# The statuses a run passes through before it ends (SEMANTICS.md §5).
LIVE = run_statuses.ACTIVE


def statuses_of(asked: list[str]) -> tuple[str, ...]:
    """The statuses to list: those asked for (each one of ``LIVE``), else all of ``LIVE``."""
    for status in asked:
        if status not in LIVE:
            raise InvalidRequest(
                f"Invalid status {status!r}: expected one of {', '.join(LIVE)}.", param="status"
            )
    chosen = tuple(dict.fromkeys(asked)) or LIVE
    assert len(chosen) <= len(STATUS_PARAMS)
    return chosen


async def page(db: Database, statuses: tuple[str, ...], limit: int, after: str | None) -> Page:
    """Newest first; ``after`` a run id of the previous page."""
    rows = await live_runs(db, statuses, limit + 1, after)
    data = [{**run, "project_id": project_id} for run, project_id in rows[:limit]]
    return Page(data, has_more=len(rows) > limit)
