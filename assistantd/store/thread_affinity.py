"""The ``thread_affinity`` table: a worker that holds a thread's code_interpreter session says
so here, renewing the hold while the session lives; the run queue's claim passes over runs of
threads another live worker holds (``run_leases.CLAIM_WAITING_RUNS``). PostgreSQL only: on
SQLite there is one worker."""

from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

# Take the thread (or keep it); returns who held it before, if anyone did.
HOLD = text(
    "WITH before AS (SELECT worker FROM thread_affinity WHERE thread_id = :thread_id)"
    " INSERT INTO thread_affinity (thread_id, worker, expires_at)"
    " VALUES (:thread_id, :worker, :until)"
    " ON CONFLICT (thread_id) DO UPDATE SET worker = :worker, expires_at = :until"
    " RETURNING (SELECT worker FROM before)"
)
RENEW = text(
    "UPDATE thread_affinity SET expires_at = :until"
    " WHERE worker = :worker AND thread_id IN :threads"
).bindparams(bindparam("threads", expanding=True))
RELEASE_OTHERS = text(
    "DELETE FROM thread_affinity WHERE worker = :worker AND thread_id NOT IN :threads"
).bindparams(bindparam("threads", expanding=True))
RELEASE_ALL = text("DELETE FROM thread_affinity WHERE worker = :worker")


async def hold(session: AsyncSession, thread_id: str, worker: str, until: float) -> str | None:
    """Hold the thread for ``worker``; the worker that held it before (None: nobody)."""
    params = {"thread_id": thread_id, "worker": worker, "until": until}
    return (await session.execute(HOLD, params)).scalar_one_or_none()


async def keep_only(session: AsyncSession, worker: str, threads: list[str], until: float) -> None:
    """Renew ``worker``'s holds on ``threads`` and let go of the others it holds."""
    if not threads:
        await session.execute(RELEASE_ALL, {"worker": worker})
        return
    await session.execute(RENEW, {"worker": worker, "threads": threads, "until": until})
    await session.execute(RELEASE_OTHERS, {"worker": worker, "threads": threads})
