"""``/v1/threads/{thread_id}/runs`` and ``/v1/threads/runs``.

Every response carries ``openai-poll-after-ms``, which the SDK's ``*_and_poll`` helpers honour.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.exc import IntegrityError

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.pagination import ListParams
from assistantd.errors import InvalidRequest
from assistantd.objects import runs
from assistantd.objects.steps import check_include
from assistantd.runs.engine import RunEngine
from assistantd.store.database import Database
from assistantd.store.runs import active_run_id
from assistantd.wire.runs import CreateRun, CreateThreadAndRun, ModifyRun, SubmitToolOutputs


async def poll_after(request: Request, response: Response) -> None:
    response.headers["openai-poll-after-ms"] = str(request.app.state.settings.poll_after_ms)


def run_engine(request: Request) -> RunEngine:
    return request.app.state.run_engine


Engine = Annotated[RunEngine, Depends(run_engine)]
Include = Annotated[list[str] | None, Query(alias="include[]")]

router = APIRouter(prefix="/threads", dependencies=[Depends(poll_after)])


def refuse_stream(stream: bool | None) -> None:
    if stream:
        raise InvalidRequest(
            "Streaming is not available yet on this server; create the run without "
            "'stream' and poll it (e.g. client.beta.threads.runs.create_and_poll).",
            "stream",
        )


@router.post("/runs")
async def create_thread_and_run(
    body: CreateThreadAndRun, tenant: Tenant, db: Db, engine: Engine
) -> dict[str, Any]:
    refuse_stream(body.stream)
    async with db.write() as session:
        _thread, run = await runs.create_with_thread(
            session,
            tenant,
            body,
            lease=engine.lease,
            expiry_seconds=engine.settings.run_expiry_seconds,
        )
    await engine.run_created(run)
    return run


@router.post("/{thread_id}/runs")
async def create_run(
    thread_id: str, body: CreateRun, tenant: Tenant, db: Db, engine: Engine, include: Include = None
) -> dict[str, Any]:
    refuse_stream(body.stream)
    included = sorted(check_include(include))
    try:
        async with db.write() as session:
            run = await runs.create(
                session,
                tenant,
                thread_id,
                body,
                lease=engine.lease,
                expiry_seconds=engine.settings.run_expiry_seconds,
                include=included,
            )
    except IntegrityError:
        # Two creates raced past the check: the unique index let one through.
        raise runs.thread_busy(thread_id, await _active_run(db, tenant, thread_id)) from None
    await engine.run_created(run)
    return run


@router.get("/{thread_id}/runs")
async def list_runs(thread_id: str, tenant: Tenant, db: Db, params: ListParams) -> dict[str, Any]:
    async with db.read() as session:
        return (await runs.list_page(session, tenant, thread_id, params)).envelope()


@router.get("/{thread_id}/runs/{run_id}")
async def get_run(thread_id: str, run_id: str, tenant: Tenant, db: Db) -> dict[str, Any]:
    async with db.read() as session:
        return await runs.get(session, tenant, thread_id, run_id)


@router.post("/{thread_id}/runs/{run_id}")
async def modify_run(
    thread_id: str, run_id: str, body: ModifyRun, tenant: Tenant, db: Db
) -> dict[str, Any]:
    async with db.write() as session:
        return await runs.modify(session, tenant, thread_id, run_id, body)


@router.post("/{thread_id}/runs/{run_id}/cancel")
async def cancel_run(
    thread_id: str, run_id: str, tenant: Tenant, db: Db, engine: Engine
) -> dict[str, Any]:
    async with db.write() as session:
        run = await runs.cancel(session, tenant, thread_id, run_id)
    await engine.cancel_requested(run)
    return run


@router.post("/{thread_id}/runs/{run_id}/submit_tool_outputs")
async def submit_tool_outputs(
    thread_id: str, run_id: str, body: SubmitToolOutputs, tenant: Tenant, db: Db, engine: Engine
) -> dict[str, Any]:
    refuse_stream(body.stream)
    async with db.write() as session:
        run, step = await runs.submit_tool_outputs(
            session, tenant, thread_id, run_id, body, engine.lease
        )
    await engine.tool_outputs_submitted(run, step)
    return run


async def _active_run(db: Database, tenant: str, thread_id: str) -> str | None:
    async with db.read() as session:
        return await active_run_id(session, tenant, thread_id)
