"""The run statuses of SEMANTICS.md §5, grouped by what the server does with a run in them.
Every rule that asks "is this run …?" takes its set from here."""

from __future__ import annotations

# A run in one of these holds its thread: no other run may start on it (a unique index).
ACTIVE = ("queued", "in_progress", "requires_action", "cancelling")
# Some worker should be executing the run.
EXECUTING = ("queued", "in_progress", "cancelling")
# Waiting for a worker to take it up (to execute it, or to stop it).
WAITING_FOR_WORKER = ("queued", "cancelling")
# Past its ``expires_at``, the run expires.
EXPIRING = ("queued", "in_progress", "requires_action")
# Nothing happens to the run until a client acts (its stored state tells all there is).
AT_REST = frozenset(
    {"requires_action", "completed", "incomplete", "failed", "cancelled", "expired"}
)
# The run has ended for good.
TERMINAL = frozenset({"completed", "incomplete", "failed", "cancelled", "expired"})


def sql_list(statuses: tuple[str, ...] | frozenset[str]) -> str:
    """The statuses as an SQL list literal, for statements written as constants."""
    return ", ".join(f"'{status}'" for status in sorted(statuses))
