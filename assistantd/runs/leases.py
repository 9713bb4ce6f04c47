"""Who executes a run: a worker claims it with a lease it keeps renewing (a heartbeat), so when a
process dies its runs' leases lapse and another process (or the same one, restarted) can
recover them. Requires-action runs are held by nobody: they wait for the client."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store.run_rows import RunRow
from assistantd.store.tables import Run

# Statuses in which some worker should be executing the run.
EXECUTING_STATUSES = ("queued", "in_progress", "cancelling")


@dataclass(frozen=True)
class Lease:
    worker: str
    seconds: float

    def until(self) -> float:
        return time.time() + self.seconds

    def take(self, row: RunRow) -> None:
        row.claimed_by = self.worker
        row.lease_expires_at = self.until()

    def can_take(self, row: RunRow) -> bool:
        """Free, ours already, or abandoned (its holder stopped renewing)."""
        return (
            row.claimed_by is None
            or row.claimed_by == self.worker
            or (row.lease_expires_at or 0.0) < time.time()
        )


def release(row: RunRow) -> None:
    row.claimed_by = None
    row.lease_expires_at = None


async def renew(session: AsyncSession, lease: Lease) -> list[tuple[str, str]]:
    """Extend every lease this worker holds; returns (run id, status) of those runs, so the
    caller notices runs cancelled through another process."""
    statement = (
        update(Run)
        .where(Run.claimed_by == lease.worker)
        .values(lease_expires_at=lease.until())
        .returning(Run.id, Run.status)
    )
    return [(run_id, status) for run_id, status in (await session.execute(statement)).all()]


async def abandoned(session: AsyncSession, lease: Lease, *, all_unowned: bool) -> list[str]:
    """Runs that should be executing but whose holder is gone. ``all_unowned`` also takes runs
    held by other workers whose lease has not lapsed yet: right after a restart on SQLite,
    where only one process can be the server, every such lease is a dead one."""
    query = select(Run.id).where(Run.status.in_(EXECUTING_STATUSES))
    if all_unowned:
        query = query.where(or_(Run.claimed_by.is_(None), Run.claimed_by != lease.worker))
    else:
        query = query.where(or_(Run.claimed_by.is_(None), Run.lease_expires_at < time.time()))
    return list((await session.execute(query.order_by(Run.seq))).scalars())


# Statuses in which a run expires once past its ``expires_at`` (SEMANTICS.md §5).
EXPIRING_STATUSES = ("queued", "in_progress", "requires_action")


async def overdue(session: AsyncSession, now: int) -> list[str]:
    """Runs queued, executing or waiting for tool outputs past their ``expires_at``."""
    query = select(Run.id).where(Run.status.in_(EXPIRING_STATUSES), Run.expires_at <= now)
    return list((await session.execute(query)).scalars())
