"""A thread's history as the run engine reads it for a prompt: its messages and its tool-call
steps, each in order, from one statement (one snapshot) on either database."""

from __future__ import annotations

from typing import Any

from assistantd.store import run_rows
from assistantd.store.database import Database


def _object(object_id: str, thread_id: str = "thread_a") -> dict[str, Any]:
    return {"id": object_id, "created_at": 0, "thread_id": thread_id, "run_id": "run_a"}


async def test_messages_and_tool_steps_each_in_order(db: Database) -> None:
    calls = {"calls": [{"id": "call_1", "name": "f", "arguments": "{}", "output": "4"}]}
    async with db.write(orm=False) as session:
        first = await run_rows.insert_message(session, "t", _object("msg_1"))
        await run_rows.insert_step(session, "t", _object("step_1"))  # message_creation: no calls
        await run_rows.insert_step(session, "t", _object("step_2"), message_seq=first, engine=calls)
        second = await run_rows.insert_message(session, "t", _object("msg_2"))
        await run_rows.insert_message(session, "t", _object("msg_other", "thread_b"))
        await run_rows.insert_message(session, "other-tenant", _object("msg_3"))
    messages, steps = await run_rows.thread_history(db, "t", "thread_a")
    assert [(seq, data["id"]) for seq, data in messages] == [(first, "msg_1"), (second, "msg_2")]
    assert [(at, engine) for _, at, engine in steps] == [(first, calls)]
