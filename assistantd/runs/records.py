"""The objects the engine writes as a run proceeds: assistant messages and run steps."""

from __future__ import annotations

from typing import Any

from assistantd.ids import new_id

ZERO_USAGE = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


def new_message(run: dict[str, Any], now: int) -> dict[str, Any]:
    """An assistant message as it starts: in progress, no content yet."""
    return {
        "id": new_id("msg_"),
        "object": "thread.message",
        "created_at": now,
        "thread_id": run["thread_id"],
        "status": "in_progress",
        "incomplete_details": None,
        "completed_at": None,
        "incomplete_at": None,
        "role": "assistant",
        "content": [],
        "assistant_id": run["assistant_id"],
        "run_id": run["id"],
        "attachments": [],
        "metadata": {},
    }


def new_step(run: dict[str, Any], details: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "id": new_id("step_"),
        "object": "thread.run.step",
        "created_at": now,
        "assistant_id": run["assistant_id"],
        "thread_id": run["thread_id"],
        "run_id": run["id"],
        "type": details["type"],
        "status": "in_progress",
        "step_details": details,
        "last_error": None,
        "expired_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "metadata": {},
        "usage": None,
    }
