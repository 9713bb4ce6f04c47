"""Who else serves this database, and whether this process may join them.

Several processes on one PostgreSQL database behave as one server only if nothing a client can
see lives in one process or on one disk: run events (Redis), file bytes (object storage) and
the chunk index (PostgreSQL with pgvector). A process that keeps any of them locally gives
quietly wrong answers beside another live process (a stream that never ends, a file that is
not found, a search that misses files), so it refuses to start next to one, and a process
that shares everything refuses to start next to one that does not. On SQLite there is one
process by construction, and nothing to check.

Each process registers in ``server_processes`` and renews its row; a row not renewed for
``ALIVE_SECONDS`` (or of a process on this host that no longer exists) is a dead process's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

from assistantd.config import Settings
from assistantd.store import server_processes
from assistantd.store.database import Database

log = logging.getLogger("assistantd")

RENEW_SECONDS = 5.0
ALIVE_SECONDS = 3 * RENEW_SECONDS


class DeploymentRefused(RuntimeError):
    """This configuration would give wrong answers beside the processes already live."""


def local_state(settings: Settings, *, blobs_shared: bool, index_shared: bool) -> list[str]:
    """What this process would keep to itself, each with the setting that shares it."""
    kept = []
    if settings.redis_url is None:
        kept.append("run events (set ASSISTANTD_REDIS_URL=redis://host:port/db)")
    if not blobs_shared:
        kept.append("file bytes (set ASSISTANTD_BLOB_URL=s3://bucket/prefix and AWS_*)")
    if not index_shared:
        kept.append("the chunk index (use PostgreSQL with the pgvector extension)")
    return kept


class Presence:
    """This process's row in ``server_processes``, renewed until ``leave``."""

    def __init__(self, db: Database, process: str) -> None:
        self._db = db
        self._process = process
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def join(cls, db: Database, process: str, role: str, kept: list[str]) -> Presence:
        presence = cls(db, process)
        if db.is_sqlite:
            return presence
        async with db.write() as session:
            await server_processes.lock_table(session)  # two starting at once see each other
            others = await server_processes.live_others(session, process, ALIVE_SECONDS)
            others = [other for other in others if not _gone_from_this_host(other[0])]
            _refuse_if_unsafe(kept, others)
            await server_processes.register(session, process, role, "; ".join(kept))
        presence._task = asyncio.create_task(presence._renew_forever(), name="presence")
        return presence

    async def leave(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with self._db.write() as session:
                await server_processes.forget(session, self._process)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                async with self._db.write() as session:
                    await server_processes.renew(session, self._process)
            except Exception:
                log.exception("renewing this process's presence")


def _refuse_if_unsafe(kept: list[str], others: list[tuple[str, str, str]]) -> None:
    if not others:
        return
    if kept:
        names = ", ".join(f"{process} ({role})" for process, role, _ in others)
        raise DeploymentRefused(
            f"another assistantd process is live on this database ({names}), and this one "
            f"would keep {'; '.join(kept)} to itself: with several processes that gives wrong "
            "answers. Share them, or stop the other process."
        )
    for process, role, other_kept in others:
        if other_kept:
            raise DeploymentRefused(
                f"assistantd process {process} ({role}) is live on this database and keeps "
                f"{other_kept} to itself: stop it, or start it with those shared, before "
                "adding processes."
            )


def _gone_from_this_host(process: str) -> bool:
    """A process of this host (ids are ``host:pid:nonce``) whose pid no longer exists."""
    host, _, rest = process.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
