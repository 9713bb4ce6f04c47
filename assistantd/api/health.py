"""``/health`` (the process answers), ``/ready`` (what it needs works: each check in the body,
503 when a required one fails) and ``/metrics`` (Prometheus). Outside ``/v1`` and without an
API key, for load balancers, orchestrators and scrapers."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from assistantd.observability import metrics
from assistantd.store import readiness

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
CHECK_TIMEOUT_SECONDS = 3.0

# A check returns None when all is well, else what is wrong (or raises).
Check = Callable[[], Awaitable[str | None]]


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    checks = _checks(request.app.state)
    results = await asyncio.gather(*(_outcome(check) for _, _, check in checks))
    body: dict[str, Any] = {}
    failed = False
    for (name, required, _), problem in zip(checks, results, strict=True):
        body[name] = {"status": "ok" if problem is None else "failed", "required": required}
        if problem is not None:
            body[name]["error"] = problem
            failed = failed or required
    status = "unavailable" if failed else "ready"
    return JSONResponse({"status": status, "checks": body}, status_code=503 if failed else 200)


@router.get("/metrics")
async def prometheus_metrics(request: Request) -> Response:
    try:
        depth = await asyncio.wait_for(
            readiness.runs_waiting(request.app.state.db), CHECK_TIMEOUT_SECONDS
        )
        metrics.run_queue_depth.set(depth)
    except Exception as error:  # the other metrics are still worth having
        log.warning("queue depth not read for /metrics: %s", error)
    return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)


def _checks(state: Any) -> list[tuple[str, bool, Check]]:
    """(name, required, check) of what this process uses."""
    checks: list[tuple[str, bool, Check]] = [
        ("database", True, lambda: readiness.schema_problem(state.db))
    ]
    events = state.run_engine.events
    if hasattr(events, "ping"):  # a shared bus (Redis); in memory there is nothing to reach
        checks.append(("redis", True, events.ping))
    checks.append(("blob_store", True, lambda: _blobs_problem(state.blobs)))
    if state.executes:  # only processes that execute runs host code sessions
        checks.append(("code_interpreter", False, state.code_sessions.backend.unavailable_reason))
    return checks


async def _outcome(check: Check) -> str | None:
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    except Exception as error:
        return f"{type(error).__name__}: {error}"


async def _blobs_problem(blobs: Any) -> str | None:
    if hasattr(blobs, "check"):  # object storage: the bucket is reachable and ours
        await blobs.check()
        return None
    root = blobs.root
    if not os.access(root, os.W_OK | os.X_OK):
        return f"{root} is not a writable directory"
    return None
