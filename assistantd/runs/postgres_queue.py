"""A durable run queue in PostgreSQL: runs wait where they are stored (``queued`` or
``cancelling``, held by no worker or by one whose lease lapsed), and any worker process takes
any of them with ``FOR UPDATE SKIP LOCKED`` (``run_leases.claim_waiting``).

Nobody polls for work: ``put`` is a ``NOTIFY`` that wakes every worker process's claimer at
once (a slow sweep remains, in case a notification is lost with a connection). Each process
has one claimer, which claims as many runs as it has idle workers, so a burst of runs spreads
over the processes with free workers instead of all of them racing for each run.

A process with an idle worker keeps the runs created through it: ``reserve`` sets the worker
aside, the run is created held by this process's lease, and ``put`` hands it to that worker
with no claim and no NOTIFY. Before, such a run was claimed by whichever claimer came first,
so with several processes creating runs some ran on another process than their stream, their
events going through Redis and back (``bench_scale_out``: 3 processes cost 1.27-1.44x the CPU
per run of one). A held run that never reaches a worker (its request died between the commit
and ``put``) is not renewed while queued, so its lease lapses and any process claims it.
``cancel`` notifies every process too; the one executing the run stops it within a
notification's time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from assistantd.store import run_leases
from assistantd.store.database import Database, Listener
from assistantd.store.run_leases import Lease
from assistantd.store.run_rows import RunRecord

log = logging.getLogger(__name__)

RUNS_CHANNEL = "assistantd_runs"
CANCELS_CHANNEL = "assistantd_run_cancels"


class PostgresRunQueue:
    claims = True

    def __init__(self, db: Database, lease: Lease, sweep_seconds: float) -> None:
        self._db = db
        self._lease = lease
        self._sweep_seconds = sweep_seconds
        self._claimed: asyncio.Queue[str] = asyncio.Queue()
        self._rows: dict[str, RunRecord] = {}  # the claimed runs not yet handed out, as claimed
        self._idle_workers = 0
        self._reserved = 0  # idle workers set aside for runs being created held by this process
        self._wake = asyncio.Event()
        # Whether runs may wait unclaimed: not after a claim that came back short, until a
        # notification says otherwise. A worker that falls idle claims only then: one run at a
        # time, each run cost an empty claim (a round trip) as its worker finished.
        self._maybe_waiting = True
        self._listener: Listener | None = None
        self._claimer: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self, on_cancel: Callable[[str], None], *, execute: bool) -> None:
        if not execute:
            return  # hands runs over only: notifying needs no connection of its own
        self._listener = await self._db.listen(
            {RUNS_CHANNEL: lambda _run_id: self.wake(), CANCELS_CHANNEL: on_cancel}
        )
        self._claimer = asyncio.create_task(self._claim_forever(), name="run-claimer")

    def wake(self) -> None:
        """Claim now: a run was queued or handed back (by any process)."""
        self._maybe_waiting = True
        self._wake.set()

    def reserve(self) -> bool:
        if self._claimer is None or self._stopping or self._free_workers() <= 0:
            return False
        self._reserved += 1
        return True

    def unreserve(self) -> None:
        self._reserved -= 1

    async def put(self, run_id: str, *, held: bool) -> None:
        if held:
            self._claimed.put_nowait(run_id)  # its worker reads it (no claimed row to start from)
            return
        await self._db.notify(RUNS_CHANNEL, run_id)

    def _free_workers(self) -> int:
        """Idle workers that no claimed run and no run being created here is waiting for."""
        return self._idle_workers - self._claimed.qsize() - self._reserved

    async def cancel(self, run_id: str) -> None:
        # The executing worker stops it; if none does (still queued), a claimer closes it.
        await self._db.notify(CANCELS_CHANNEL, run_id)
        await self._db.notify(RUNS_CHANNEL, run_id)

    async def get(self) -> str:
        self._idle_workers += 1
        if self._maybe_waiting:
            self._wake.set()
        try:
            return await self._claimed.get()
        finally:
            self._idle_workers -= 1

    def claimed(self, run_id: str) -> RunRecord | None:
        return self._rows.pop(run_id, None)

    def pending(self) -> int:
        return self._claimed.qsize()

    async def stop(self) -> None:
        # The flag, not only the cancel, ends the claimer: on Python 3.11 ``asyncio.wait_for``
        # drops a cancel that lands as its wait ends (a run handed back on shutdown wakes
        # every claimer, this one too, just as it stops).
        self._stopping = True
        self._wake.set()
        if self._claimer is not None:
            self._claimer.cancel()
            await asyncio.gather(self._claimer, return_exceptions=True)
        if self._listener is not None:
            await self._listener.close()
        # Runs claimed but not started go back at once, not after their lease lapses.
        with contextlib.suppress(Exception):
            # Other claimers claim on a notification, not whenever a worker falls idle.
            if released := await run_leases.release_waiting(self._db, self._lease):
                await self._db.notify(RUNS_CHANNEL, released[0])

    async def _claim_forever(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before claiming: a notification from now on claims again
            wanted = self._free_workers()
            claimed: list[RunRecord] = []
            if wanted > 0:
                self._maybe_waiting = False  # a notification from now on sets it again
                try:
                    claimed = await run_leases.claim_waiting(self._db, self._lease, wanted)
                except Exception:
                    self._maybe_waiting = True
                    log.exception("claiming queued runs")
            for row in claimed:
                self._rows[row.id] = row
                self._claimed.put_nowait(row.id)
            if claimed and len(claimed) == wanted:
                self._maybe_waiting = True
                continue  # there may be more
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sweep_seconds):
                    await self._wake.wait()
