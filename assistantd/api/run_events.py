"""``GET /v1/threads/{thread_id}/runs/{run_id}/events``: join a run's event stream (beyond
OpenAI's API).

Any run can be joined, also one created without ``stream: true`` or after a dropped
connection. Every frame carries ``id: <seq>``; a client resumes with the standard
``Last-Event-ID`` header (or ``?after=<seq>``; the header wins, as a browser's EventSource sends
it on reconnect) and gets exactly the events after that one, then live ones, up to the run's
terminal event or ``thread.run.requires_action``, then ``done``.

When the server no longer holds the run's events (they are kept in memory until a minute after
the run ends, and not across restarts) and the run is finished or waiting for tool outputs, the
stream is synthesized from the database instead (``snapshot_events``) — always whole, whatever
``Last-Event-ID`` says, numbered from 1.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from assistantd.api.auth import Tenant
from assistantd.api.database import Db
from assistantd.api.streaming import event_stream, run_stream, snapshot_frames
from assistantd.errors import InvalidRequest
from assistantd.objects import runs
from assistantd.objects.steps import for_wire
from assistantd.runs.engine import RunEngine
from assistantd.runs.transitions import Event
from assistantd.store import documents, run_statuses
from assistantd.store.sessions import AsyncSession
from assistantd.store.tables import Message, RunStep

# Mounted by ``api/runs.py`` under its ``/threads`` prefix.
router = APIRouter()


@router.get("/{thread_id}/runs/{run_id}/events", response_model=None)
async def run_events(
    thread_id: str,
    run_id: str,
    request: Request,
    tenant: Tenant,
    db: Db,
    after: Annotated[int | None, Query(ge=0)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    engine: RunEngine = request.app.state.run_engine
    start = _resume_point(last_event_id, after)
    async with db.read() as session:
        run = await runs.get(session, tenant, thread_id, run_id)
        include = await runs.include_of(session, tenant, run_id)
        if await engine.events.last_seq(run_id) == 0 and run["status"] in run_statuses.AT_REST:
            stored = await _stored(session, tenant, run_id)
            return event_stream(snapshot_frames(snapshot_events(run, *stored), include))
    return run_stream(engine, run_id, start, include)


def _resume_point(last_event_id: str | None, after: int | None) -> int:
    if last_event_id is None or not last_event_id.strip():
        return after or 0
    try:
        seq = int(last_event_id)
    except ValueError:
        seq = -1
    if seq < 0:
        raise InvalidRequest(
            "Last-Event-ID must be the id of an event of this stream (a sequence number).",
            "Last-Event-ID",
        )
    return seq


async def _stored(
    session: AsyncSession, tenant: str, run_id: str
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    steps = await documents.all_data(session, RunStep, tenant, run_id=run_id)
    messages = await documents.all_data(session, Message, tenant, run_id=run_id)
    return [for_wire(step, frozenset()) for step in steps], {
        message["id"]: message for message in messages
    }


def snapshot_events(
    run: dict[str, Any], steps: list[dict[str, Any]], messages: dict[str, dict[str, Any]]
) -> list[Event]:
    """A run at rest told as a stream: ``thread.run.created`` (the run as stored now); for each
    step in order, ``thread.run.step.created`` (as stored, a tool step with an empty call list),
    its calls in one ``thread.run.step.delta``, its message (``thread.message.created`` with
    empty content, the whole content in one ``thread.message.delta``, then
    ``thread.message.completed``/``.incomplete``) and ``thread.run.step.<status>`` unless it is
    still in progress; then ``thread.run.<status>`` (or ``.requires_action``). Queued and
    in-progress transitions, and per-token deltas, are not replayed."""
    events: list[Event] = [("thread.run.created", run)]
    for step in steps:
        events += _step_events(step, messages)
    events.append((f"thread.run.{run['status']}", run))
    return events


def _step_events(step: dict[str, Any], messages: dict[str, dict[str, Any]]) -> list[Event]:
    details = step["step_details"]
    if details["type"] == "tool_calls":
        empty = {**step, "step_details": {"type": "tool_calls", "tool_calls": []}}
        events: list[Event] = [("thread.run.step.created", empty)]
        if details["tool_calls"]:
            calls = [{"index": i, **call} for i, call in enumerate(details["tool_calls"])]
            delta = {"step_details": {"type": "tool_calls", "tool_calls": calls}}
            events.append(
                ("thread.run.step.delta", _delta(step["id"], "thread.run.step.delta", delta))
            )
    else:
        events = [("thread.run.step.created", step)]
        message = messages.get(details["message_creation"]["message_id"])
        if message is not None:
            events += _message_events(message)
    if step["status"] != "in_progress":
        events.append((f"thread.run.step.{step['status']}", step))
    return events


def _message_events(message: dict[str, Any]) -> list[Event]:
    events: list[Event] = [("thread.message.created", {**message, "content": []})]
    if message["content"]:
        parts = [_indexed_part(i, part) for i, part in enumerate(message["content"])]
        delta = _delta(message["id"], "thread.message.delta", {"content": parts})
        events.append(("thread.message.delta", delta))
    if message["status"] != "in_progress":
        events.append((f"thread.message.{message['status']}", message))
    return events


def _indexed_part(index: int, part: dict[str, Any]) -> dict[str, Any]:
    if part["type"] != "text":
        return {"index": index, **part}
    annotations = [{"index": i, **a} for i, a in enumerate(part["text"]["annotations"])]
    return {
        "index": index,
        "type": "text",
        "text": {"value": part["text"]["value"], "annotations": annotations},
    }


def _delta(object_id: str, kind: str, delta: dict[str, Any]) -> dict[str, Any]:
    return {"id": object_id, "object": kind, "delta": delta}
