"""``/v1/threads/{thread_id}/runs`` and ``/v1/threads/runs``.

Every response carries ``openai-poll-after-ms``, which the SDK's ``*_and_poll`` helpers honour.
With ``stream: true``, create run, create thread and run, and submit tool outputs answer with the
run's events (``text/event-stream``, see ``api/streaming.py``) once the request has been accepted;
a request refused before that (validation, a busy thread) is a normal JSON error.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute

from assistantd.api import run_events, run_timings
from assistantd.api.auth import Tenant, authenticate
from assistantd.api.database import Db
from assistantd.api.file_services import Blobs, Ingestion, write_indexing_attachments
from assistantd.api.pagination import ListParams
from assistantd.api.rate_limits import admit_run, with_limit_headers
from assistantd.api.streaming import run_stream
from assistantd.errors import NotFound
from assistantd.objects import runs
from assistantd.objects.steps import check_include
from assistantd.runs.engine import RunEngine
from assistantd.store.database import Database
from assistantd.store.runs import active_run_id, run_json
from assistantd.store.sessions import IntegrityError
from assistantd.wire.runs import CreateRun, CreateThreadAndRun, ModifyRun, SubmitToolOutputs


async def poll_after(request: Request, response: Response) -> None:
    response.headers["openai-poll-after-ms"] = str(request.app.state.run_engine.poll_after_ms())


async def run_engine(request: Request) -> RunEngine:  # async: no threadpool hop
    return request.app.state.run_engine


Engine = Annotated[RunEngine, Depends(run_engine)]
Include = Annotated[list[str] | None, Query(alias="include[]")]

router = APIRouter(prefix="/threads", dependencies=[Depends(poll_after)])
router.include_router(run_events.router)  # GET …/runs/{run_id}/events (beyond OpenAI)
router.include_router(run_timings.router)  # GET …/runs/{run_id}/timings (beyond OpenAI)


RunAnswer = dict[str, Any] | StreamingResponse


@router.post("/runs", response_model=None)
async def create_thread_and_run(
    body: CreateThreadAndRun,
    tenant: Tenant,
    db: Db,
    blobs: Blobs,
    ingestion: Ingestion,
    engine: Engine,
    request: Request,
    response: Response,
) -> RunAnswer:
    await admit_run(request, response, db, body)
    orm = not runs.writes_by_statements(body)
    async with write_indexing_attachments(db, ingestion, orm=orm) as (session, jobs):
        thread, run = await runs.create_with_thread(
            session,
            tenant,
            body,
            lease=engine.lease_for_new_runs,
            expiry_seconds=engine.settings.run_expiry_seconds,
            blobs=blobs,
            jobs=jobs,
        )
    # The thread's creation opens the run's event history (SEMANTICS.md §8: first event).
    engine.events.publish(run["id"], "thread.created", thread)
    await engine.run_created(run)
    if not body.stream:
        return run
    return with_limit_headers(run_stream(engine, run["id"]), response)


@router.post("/{thread_id}/runs", response_model=None)
async def create_run(
    thread_id: str,
    body: CreateRun,
    tenant: Tenant,
    db: Db,
    blobs: Blobs,
    ingestion: Ingestion,
    engine: Engine,
    request: Request,
    response: Response,
    include: Include = None,
) -> RunAnswer:
    included = sorted(check_include(include))
    await admit_run(request, response, db, body)
    try:
        async with write_indexing_attachments(db, ingestion) as (session, jobs):
            run = await runs.create(
                session,
                tenant,
                thread_id,
                body,
                lease=engine.lease_for_new_runs,
                expiry_seconds=engine.settings.run_expiry_seconds,
                blobs=blobs,
                jobs=jobs,
                include=included,
            )
    except IntegrityError:
        # Two creates raced past the check: the unique index let one through.
        raise runs.thread_busy(thread_id, await _active_run(db, tenant, thread_id)) from None
    await engine.run_created(run)
    if not body.stream:
        return run
    stream = run_stream(engine, run["id"], include=frozenset(included))
    return with_limit_headers(stream, response)


@router.get("/{thread_id}/runs")
async def list_runs(thread_id: str, tenant: Tenant, db: Db, params: ListParams) -> dict[str, Any]:
    async with db.read() as session:
        return (await runs.list_page(session, tenant, thread_id, params)).envelope()


async def get_run(request: Request) -> Response:
    """The polled path (the SDK's ``*_and_poll`` helpers call it every few tens of ms per run):
    a plain Starlette route, since FastAPI's dependency resolution and routing cost several
    times the read itself; the stored JSON goes out as it is (no ORM, no decode and re-encode).
    Errors still leave through the app's handlers, in the OpenAI shape."""
    tenant = await authenticate(request)
    thread_id, run_id = request.path_params["thread_id"], request.path_params["run_id"]
    found = await run_json(request.app.state.db, tenant, thread_id, run_id)
    if found is None:
        raise NotFound.object(runs.KIND, run_id)
    raw, status = found
    engine: RunEngine = request.app.state.run_engine
    poll_ms = str(engine.poll_after_ms(status))
    return Response(raw, media_type="application/json", headers={"openai-poll-after-ms": poll_ms})


class PlainRoute(APIRoute):
    """A route FastAPI matches and documents as any other, whose handler is the endpoint
    itself: no dependency resolution, validation or serialisation on the way."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.endpoint


router.add_api_route(
    "/{thread_id}/runs/{run_id}", get_run, methods=["GET"], route_class_override=PlainRoute
)


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


@router.post("/{thread_id}/runs/{run_id}/submit_tool_outputs", response_model=None)
async def submit_tool_outputs(
    thread_id: str, run_id: str, body: SubmitToolOutputs, tenant: Tenant, db: Db, engine: Engine
) -> RunAnswer:
    async with db.write() as session:
        run, step = await runs.submit_tool_outputs(
            session, tenant, thread_id, run_id, body, engine.lease_for_new_runs
        )
        include = await runs.include_of(session, tenant, run_id)
    # This stream continues the run's events from here (the first stream ended at
    # requires_action); nothing is published for a run waiting for outputs, so none is missed.
    after = await engine.events.last_seq(run_id)
    await engine.tool_outputs_submitted(run, step)
    return run_stream(engine, run_id, after, include) if body.stream else run


async def _active_run(db: Database, tenant: str, thread_id: str) -> str | None:
    async with db.read() as session:
        return await active_run_id(session, tenant, thread_id)
