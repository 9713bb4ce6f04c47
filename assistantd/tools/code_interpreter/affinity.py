"""Keeping a thread's code_interpreter runs on the worker that holds its Python session.

Sessions live in the worker process that started them. With several workers, this worker holds
each thread it has a session for (``store/thread_affinity.py``), renewing the holds while the
sessions live, and the run queue leaves such threads' runs to it. When the holder dies, its
holds lapse and any worker takes the thread on, with a fresh session: ``hold`` says so, and the
call's logs tell the model its earlier state is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from assistantd.store import thread_affinity
from assistantd.store.database import Database
from assistantd.store.run_leases import Lease

log = logging.getLogger(__name__)

MOVED_NOTE = (
    "[the session was restarted: the worker that held this thread's Python session stopped, "
    "so earlier variables and files are gone; /mnt/data has the thread's input files again]\n"
)


class SessionAffinity:
    def __init__(self, db: Database, lease: Lease) -> None:
        self._db = db
        self._lease = lease
        self._threads: set[str] = set()  # threads this worker holds
        self._task: asyncio.Task[None] | None = None

    async def hold(self, thread_id: str) -> bool:
        """Hold the thread for this worker; True if another worker held it before."""
        async with self._db.write() as session:
            before = await thread_affinity.hold(
                session, thread_id, self._lease.worker, self._lease.until()
            )
        self._threads.add(thread_id)
        if self._task is None:
            self._task = asyncio.create_task(self._renew_forever(), name="thread-affinity")
        return before is not None and before != self._lease.worker

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        with contextlib.suppress(Exception):
            async with self._db.write() as session:
                await thread_affinity.keep_only(session, self._lease.worker, [], 0.0)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(max(self._lease.seconds / 3, 0.05))
            try:
                async with self._db.write() as session:
                    await thread_affinity.keep_only(
                        session, self._lease.worker, sorted(self._threads), self._lease.until()
                    )
            except Exception:
                log.exception("renewing thread holds")
