"""A project's rate limits per model (``project.rate_limit``, id ``rl-<model>``).

A model has no limit until one is set: ``POST …/rate_limits/rl-<model>`` sets it (for any model
name), and the list shows the models that have one. ``null`` is no limit. Only requests and
tokens per minute are enforced (see ``RateLimiter``); a change reaches every process's key
cache (which holds the limits) through the generation counter.
"""

from __future__ import annotations

from typing import Any

from assistantd.errors import NotFound
from assistantd.objects import projects
from assistantd.store import projects as project_store
from assistantd.store import rate_limits as store
from assistantd.store.database import Database
from assistantd.store.documents import Page
from assistantd.wire.organization import ModifyRateLimit

PREFIX = "rl-"


def to_wire(row: tuple[Any, ...]) -> dict[str, Any]:
    model, requests, tokens = row
    return {
        "object": "project.rate_limit",
        "id": PREFIX + model,
        "model": model,
        "max_requests_per_1_minute": requests,
        "max_tokens_per_1_minute": tokens,
    }


async def list_page(db: Database, project_id: str) -> Page:
    await projects.row(db, project_id)
    rows = await db.read_rows(store.LIMITS, {"project_id": project_id})
    return Page([to_wire(r) for r in rows], False)


async def modify(
    db: Database, project_id: str, rate_limit_id: str, body: ModifyRateLimit
) -> dict[str, Any]:
    model = rate_limit_id.removeprefix(PREFIX)
    if not rate_limit_id.startswith(PREFIX) or not model:
        raise NotFound.object("rate limit", rate_limit_id)
    given = body.given()
    async with db.write(orm=False) as session:
        await projects.lock_active(session, project_id)
        current = await project_store.one(
            session, store.LIMIT, {"project_id": project_id, "model": model}
        )
        _, requests, tokens = current or (model, None, None)
        if "max_requests_per_1_minute" in given:
            requests = body.max_requests_per_1_minute
        if "max_tokens_per_1_minute" in given:
            tokens = body.max_tokens_per_1_minute
        await store.set_limit(session, project_id, model, requests, tokens)
        await project_store.bump_generation(session)
    return to_wire((model, requests, tokens))
