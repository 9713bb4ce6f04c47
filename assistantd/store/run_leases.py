"""Who executes a run: a worker claims it with a lease it keeps renewing (a heartbeat), so when a
process dies its runs' leases lapse and another process (or the same one, restarted) can
recover them. Requires-action runs are held by nobody: they wait for the client."""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store import run_statuses
from assistantd.store.database import Database
from assistantd.store.driver_sql import Statement
from assistantd.store.run_rows import RUN_COLUMNS, RunRecord
from assistantd.store.tables import Run


@dataclass(frozen=True)
class Lease:
    worker: str
    seconds: float

    @classmethod
    def for_this_process(cls, seconds: float) -> Lease:
        """A lease named after this process (host, pid, and a nonce for a restarted pid)."""
        return cls(f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}", seconds)

    def until(self) -> float:
        return time.time() + self.seconds

    def take(self, row: RunRecord) -> None:
        row.claimed_by = self.worker
        row.lease_expires_at = self.until()

    def can_take(self, row: RunRecord) -> bool:
        """Free, ours already, or abandoned (its holder stopped renewing)."""
        return (
            row.claimed_by is None
            or row.claimed_by == self.worker
            or (row.lease_expires_at or 0.0) < time.time()
        )


_WAITING = run_statuses.sql_list(run_statuses.WAITING_FOR_WORKER)
# The runs a claim may take: queued or cancelling, held by nobody or by a worker whose lease
# lapsed, not of a thread whose code_interpreter session another live worker holds (it waits
# for that worker).
_CLAIMABLE = (
    f"status IN ({_WAITING}) AND (claimed_by IS NULL OR lease_expires_at < :now)"
    " AND NOT EXISTS (SELECT 1 FROM thread_affinity a WHERE a.thread_id = runs.thread_id"
    " AND a.worker <> :worker AND a.expires_at >= :now)"
)


def _claiming(selection: str) -> Statement:
    """Claim the claimable runs of ``selection`` (the rest of a ``SELECT id FROM runs WHERE
    <claimable> …``). SKIP LOCKED: rows another claimer has locked are passed over, so
    concurrent claimers never wait for, or take, the same run. PostgreSQL only. One statement,
    a transaction by itself (``Database.write_rows``): one round trip, where a session's BEGIN,
    UPDATE and COMMIT took three. It returns the runs as claimed, with their version
    (``xmin``), so that the executor starts each without reading it again
    (``run_rows.save_run_unless_changed``)."""
    return Statement(
        "UPDATE runs SET claimed_by = :worker, lease_expires_at = :until WHERE id IN ("
        f" SELECT id FROM runs WHERE {_CLAIMABLE} {selection} FOR UPDATE SKIP LOCKED"
        f") RETURNING id, {', '.join(RUN_COLUMNS)}, xmin",
        json_columns=("data", "engine"),
        result_columns=("id", *RUN_COLUMNS, "version"),
    )


# Up to ``:limit`` claimable runs, oldest first.
CLAIM_WAITING_RUNS = _claiming("ORDER BY seq LIMIT :limit")
# The runs ``:ids`` that are still claimable: those queued through this process for its own
# idle workers.
CLAIM_RUNS = _claiming("AND id = ANY(:ids)")
# One statement, a transaction by itself: one round trip (a session's BEGIN, UPDATE and COMMIT
# took three, and the ORM's CPU, in every worker process at every heartbeat). Only the leases
# due before ``:due`` are renewed: a write to a run changes its version, and the executor saves
# a run unlocked only while its version is the one it last saved (``unlocked_write``), so
# renewing every lease at every beat sent a run that spans a beat through the lock.
RENEW_LEASES = Statement(
    "UPDATE runs SET lease_expires_at = :until"
    " WHERE claimed_by = :worker AND lease_expires_at < :due RETURNING id, status",
    result_columns=("id", "status"),
)
RELEASE_WAITING_RUNS = Statement(
    "UPDATE runs SET claimed_by = NULL, lease_expires_at = NULL"
    f" WHERE claimed_by = :worker AND status IN ({_WAITING}) RETURNING id",
    result_columns=("id",),
)


async def claim_waiting(db: Database, lease: Lease, limit: int) -> list[RunRecord]:
    """Up to ``limit`` waiting runs, now held by ``lease``, as claimed."""
    params = {"worker": lease.worker, "until": lease.until(), "now": time.time(), "limit": limit}
    return [RunRecord(*row) for row in await db.write_rows(CLAIM_WAITING_RUNS, params)]


async def claim(db: Database, lease: Lease, run_ids: list[str]) -> list[RunRecord]:
    """Those of ``run_ids`` that are claimable, now held by ``lease``, as claimed."""
    params = {"worker": lease.worker, "until": lease.until(), "now": time.time(), "ids": run_ids}
    return [RunRecord(*row) for row in await db.write_rows(CLAIM_RUNS, params)]


async def release_waiting(db: Database, lease: Lease) -> list[str]:
    """Hand back the runs this worker claimed but has not started (it is stopping); returns
    their ids."""
    return [
        run_id for (run_id,) in await db.write_rows(RELEASE_WAITING_RUNS, {"worker": lease.worker})
    ]


def release(row: RunRecord) -> None:
    row.claimed_by = None
    row.lease_expires_at = None


async def renew(db: Database, lease: Lease, interval: float) -> list[tuple[str, str]]:
    """Extend the leases this worker holds that would lapse before two more beats of
    ``interval`` seconds and half of one (those taken or renewed within the last half beat keep
    theirs); returns (run id, status) of those runs, so the caller notices runs cancelled
    through another process."""
    due = time.time() + 2.5 * interval
    params = {"worker": lease.worker, "until": lease.until(), "due": min(due, lease.until())}
    return [(run_id, status) for run_id, status in await db.write_rows(RENEW_LEASES, params)]


async def abandoned(
    session: AsyncSession,
    lease: Lease,
    *,
    all_unowned: bool,
    statuses: tuple[str, ...] = run_statuses.EXECUTING,
) -> list[str]:
    """Runs in ``statuses`` that should be executing but whose holder is gone. ``all_unowned``
    also takes runs held by other workers whose lease has not lapsed yet: right after a restart
    on SQLite, where only one process can be the server, every such lease is a dead one."""
    query = select(Run.id).where(Run.status.in_(statuses))
    if all_unowned:
        query = query.where(or_(Run.claimed_by.is_(None), Run.claimed_by != lease.worker))
    else:
        query = query.where(or_(Run.claimed_by.is_(None), Run.lease_expires_at < time.time()))
    return list((await session.execute(query.order_by(Run.seq))).scalars())


async def overdue(session: AsyncSession, now: int) -> list[str]:
    """Runs queued, executing or waiting for tool outputs past their ``expires_at``."""
    query = select(Run.id).where(Run.status.in_(run_statuses.EXPIRING), Run.expires_at <= now)
    return list((await session.execute(query)).scalars())
