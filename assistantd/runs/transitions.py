"""Ending a run, in the caller's transaction: the run's terminal fields, and what happens to the
step and message it was writing (SEMANTICS.md §5). Each function returns the events to publish
once the transaction has committed."""

from __future__ import annotations

from typing import Any

from assistantd.clock import now
from assistantd.observability import run_timings
from assistantd.store import run_rows
from assistantd.store.driver_sql import Transaction
from assistantd.store.run_leases import release
from assistantd.store.run_rows import RunRecord
from assistantd.wire.messages import text_part

Event = tuple[str, dict[str, Any]]

# For each way a run can end abnormally: what its open steps become, and why its open message
# is incomplete.
_OPEN_WORK = {
    "cancelled": ("cancelled", "run_cancelled"),
    "failed": ("failed", "run_failed"),
    "expired": ("expired", "run_expired"),
    "incomplete": ("completed", "max_tokens"),
}
_TIMESTAMP = {
    "completed": "completed_at",
    "cancelled": "cancelled_at",
    "failed": "failed_at",
    "incomplete": None,
    "expired": None,
}
_STEP_TIMESTAMP = {
    "cancelled": "cancelled_at",
    "failed": "failed_at",
    "expired": "expired_at",
    "completed": "completed_at",
}


def usage_of(engine: dict[str, Any] | None) -> dict[str, int]:
    usage = (engine or {}).get("usage") or {"prompt_tokens": 0, "completion_tokens": 0}
    prompt, completion = usage["prompt_tokens"], usage["completion_tokens"]
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


async def finish_run(
    session: Transaction,
    row: RunRecord,
    status: str,
    *,
    last_error: dict[str, str] | None = None,
    incomplete_reason: str | None = None,
    partial_text: dict[str, str] | None = None,
) -> list[Event]:
    """Move the locked run ``row`` to the terminal ``status``; close its open step and message."""
    events: list[Event] = []
    if status in _OPEN_WORK:
        events += await close_open_work(session, row, status, last_error, partial_text or {})
    at = now()
    data = dict(row.data)
    data.update(status=status, required_action=None, usage=usage_of(row.engine))
    if (field := _TIMESTAMP[status]) is not None:
        data[field] = at
    if status != "expired":
        data["expires_at"] = None
    if last_error is not None:
        data["last_error"] = last_error
    if incomplete_reason is not None:
        data["incomplete_details"] = {"reason": incomplete_reason}
    row.status = status
    row.engine = dict(row.engine or {})
    run_timings.ended(row.engine)
    release(row)
    row.data = data
    events.append((f"thread.run.{status}", data))
    return events


async def close_open_work(
    session: Transaction,
    row: RunRecord,
    status: str,
    last_error: dict[str, str] | None,
    partial_text: dict[str, str],
) -> list[Event]:
    step_status, reason = _OPEN_WORK[status]
    at = now()
    events: list[Event] = []
    for message in await _open(session, "messages", row):
        data = dict(message)
        text = partial_text.get(data["id"], "")
        data.update(
            status="incomplete",
            incomplete_at=at,
            incomplete_details={"reason": reason},
            content=[text_part(text)] if text else data["content"],
        )
        await run_rows.replace(session, "messages", row.tenant, data)
        events.append(("thread.message.incomplete", data))
    for step in await _open(session, "run_steps", row):
        data = dict(step)
        data.update(status=step_status)
        data[_STEP_TIMESTAMP[step_status]] = at
        if step_status == "failed" and last_error is not None:
            # Steps know only server_error and rate_limit_exceeded.
            code = (
                last_error["code"]
                if last_error["code"] == "rate_limit_exceeded"
                else "server_error"
            )
            data["last_error"] = {"code": code, "message": last_error["message"]}
        await run_rows.replace(session, "run_steps", row.tenant, data)
        events.append((f"thread.run.step.{step_status}", data))
    return events


# What a client streaming the run is told of a turn whose worker died: its step failed and its
# message ended incomplete (the closest of the reasons a message may give), then the turn is redone.
_TAKEN_OVER = {
    "code": "server_error",
    "message": "The worker executing this step stopped; the run was taken over by another "
    "worker, which redoes this turn.",
}


async def discard_open_work(session: Transaction, row: RunRecord) -> list[Event]:
    """Forget the half-written step and message of an interrupted turn, to redo the turn;
    returns the events that end them for clients that saw them start."""
    open_work = {table: await _open(session, table, row) for table in ("run_steps", "messages")}
    events = await close_open_work(session, row, "failed", _TAKEN_OVER, {})
    for table, objects in open_work.items():
        for data in objects:
            await run_rows.delete(session, table, row.tenant, data["id"])
    return events


async def _open(session: Transaction, table: str, row: RunRecord) -> list[dict[str, Any]]:
    objects = await run_rows.run_objects(session, table, row.tenant, row.id)
    return [data for data in objects if data["status"] == "in_progress"]
