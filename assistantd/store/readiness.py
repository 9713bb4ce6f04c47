"""Whether the database answers and has the newest schema (``GET /ready``), and how many runs
wait for a worker (the queue depth metric, the same for every process of a deployment)."""

from __future__ import annotations

from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy import column, func, select, table

from assistantd.store import run_statuses
from assistantd.store.database import Database
from assistantd.store.migrate import alembic_config
from assistantd.store.tables import Run

# Where Alembic records the revisions a database is at (one row per head).
_APPLIED = select(column("version_num")).select_from(table("alembic_version"))


async def schema_problem(db: Database) -> str | None:
    """None when the database answers and is migrated to the newest schema, else what is wrong
    (a failure to connect raises)."""
    async with db.read() as session:
        current = frozenset((await session.execute(_APPLIED)).scalars())
    missing = _newest_heads() - current
    if missing:
        return f"not migrated to the newest schema (missing {', '.join(sorted(missing))})"
    return None


async def runs_waiting(db: Database) -> int:
    """Runs queued or cancelling, which a worker has yet to take."""
    statement = select(func.count()).where(Run.status.in_(run_statuses.WAITING_FOR_WORKER))
    async with db.read() as session:
        return int((await session.execute(statement)).scalar_one())


@cache
def _newest_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())
