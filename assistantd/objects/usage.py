"""The Usage API's report (OpenAI's ``organization.usage.*`` pages): the buckets of a time range,
each with its results per group of project and model, paged by bucket.

Buckets are aligned to UTC minutes, hours or days (``start_time`` is rounded down to the
bucket), every bucket of the range is listed (an empty one has no results), and a page holds
``limit`` buckets; ``next_page`` is the start of the next one, as an opaque string."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from assistantd.errors import InvalidRequest
from assistantd.store import usage as usage_store
from assistantd.store.database import Database
from assistantd.store.usage import UsageRow

# bucket_width: (seconds, default limit, maximum limit), as OpenAI's.
WIDTHS = {"1m": (60, 60, 1440), "1h": (3600, 24, 168), "1d": (86400, 7, 31)}
GROUPS = ("project_id", "model")
KINDS = (usage_store.COMPLETIONS, usage_store.EMBEDDINGS)
_PAGE = "page_"


@dataclass(frozen=True)
class UsageQuery:
    kind: str
    start_time: int
    end_time: int | None
    bucket_width: str
    project_ids: frozenset[str]
    models: frozenset[str]
    group_by: tuple[str, ...]
    limit: int | None
    page: str | None


async def record(
    db: Database, kind: str, tenant: str, model: str, tokens: usage_store.Tokens
) -> None:
    """One model call of ``tenant`` (a pass-through chat completion or embeddings call)."""
    await usage_store.add_alone(db, kind, tenant, model, time.time(), tokens)


async def report(db: Database, query: UsageQuery) -> dict[str, Any]:
    width, default_limit, max_limit = WIDTHS[query.bucket_width]
    limit = query.limit if query.limit is not None else default_limit
    if not 1 <= limit <= max_limit:
        raise InvalidRequest(
            f"limit must be between 1 and {max_limit} for bucket_width {query.bucket_width}.",
            param="limit",
        )
    start = query.start_time - query.start_time % width
    end = query.end_time if query.end_time is not None else int(time.time()) + 1
    if end <= query.start_time:
        param = "start_time" if query.end_time is None else "end_time"
        raise InvalidRequest("end_time (default now) must be after start_time.", param=param)
    first = _page_start(query.page, start, width)
    last = min(end, first + limit * width)
    rows = await usage_store.bucketed(db, query.kind, first, last, width)
    buckets = [_bucket(query, at, at + width, rows) for at in range(first, last, width)]
    has_more = last < end
    return {
        "object": "page",
        "data": buckets,
        "has_more": has_more,
        "next_page": f"{_PAGE}{last}" if has_more else None,
    }


def _page_start(page: str | None, start: int, width: int) -> int:
    if page is None:
        return start
    at = page.removeprefix(_PAGE)
    if not page.startswith(_PAGE) or not at.isdigit() or (int(at) - start) % width:
        raise InvalidRequest(f"Invalid page: {page!r}.", param="page")
    return int(at)


def _bucket(query: UsageQuery, start: int, end: int, rows: list[UsageRow]) -> dict[str, Any]:
    totals: dict[tuple[str | None, str | None], list[int]] = {}
    for row in rows:
        if row.bucket != start or not _wanted(query, row):
            continue
        key = (
            row.project_id if "project_id" in query.group_by else None,
            row.model if "model" in query.group_by else None,
        )
        sums = totals.setdefault(key, [0, 0, 0, 0])
        for i, n in enumerate(
            (row.input_tokens, row.input_cached_tokens, row.output_tokens, row.requests)
        ):
            sums[i] += n
    return {
        "object": "bucket",
        "start_time": start,
        "end_time": end,
        "results": [_result(query.kind, key, sums) for key, sums in totals.items()],
    }


def _wanted(query: UsageQuery, row: UsageRow) -> bool:
    if query.project_ids and row.project_id not in query.project_ids:
        return False
    return not query.models or row.model in query.models


def _result(kind: str, key: tuple[str | None, str | None], sums: list[int]) -> dict[str, Any]:
    project_id, model = key
    result: dict[str, Any] = {"object": f"organization.usage.{kind}.result"}
    result["input_tokens"] = sums[0]
    if kind == usage_store.COMPLETIONS:
        result.update(
            input_cached_tokens=sums[1], output_tokens=sums[2],
            input_audio_tokens=0, output_audio_tokens=0,
        )  # fmt: skip
    result.update(
        num_model_requests=sums[3], project_id=project_id, user_id=None, api_key_id=None,
        model=model, batch=None,
    )  # fmt: skip
    return result
