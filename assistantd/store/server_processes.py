"""The ``server_processes`` table: who is alive on this database, and what each keeps locally."""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

REGISTER = text(
    "INSERT INTO server_processes (id, role, local_state, started_at, seen_at)"
    " VALUES (:id, :role, :local_state, :now, :now)"
)
RENEW = text("UPDATE server_processes SET seen_at = :now WHERE id = :id")
FORGET = text("DELETE FROM server_processes WHERE id = :id")
FORGET_DEAD = text("DELETE FROM server_processes WHERE seen_at < :before")
# Held until the transaction ends: of two processes starting at once, the second waits for the
# first to register, and then sees it.
LOCK_TABLE = text("LOCK TABLE server_processes IN EXCLUSIVE MODE")
LIVE_OTHERS = text(
    "SELECT id, role, local_state FROM server_processes WHERE id <> :id AND seen_at >= :since"
)


async def lock_table(session: AsyncSession) -> None:
    """PostgreSQL only (on SQLite there is one process, and nothing to check)."""
    await session.execute(LOCK_TABLE)


async def register(session: AsyncSession, process: str, role: str, local_state: str) -> None:
    params = {"id": process, "role": role, "local_state": local_state, "now": time.time()}
    await session.execute(REGISTER, params)


async def renew(session: AsyncSession, process: str) -> None:
    await session.execute(RENEW, {"id": process, "now": time.time()})


async def forget(session: AsyncSession, process: str) -> None:
    await session.execute(FORGET, {"id": process})


async def live_others(
    session: AsyncSession, process: str, alive_seconds: float
) -> list[tuple[str, str, str]]:
    """Other processes seen within ``alive_seconds``; forgets those gone longer than that."""
    since = time.time() - alive_seconds
    await session.execute(FORGET_DEAD, {"before": since})
    rows = await session.execute(LIVE_OTHERS, {"id": process, "since": since})
    return [(row.id, row.role, row.local_state) for row in rows]
