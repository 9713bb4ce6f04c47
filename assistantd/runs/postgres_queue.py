"""A durable run queue in PostgreSQL: runs wait where they are stored (``queued`` or
``cancelling``, held by no worker or by one whose lease lapsed), and any worker process takes
any of them with ``FOR UPDATE SKIP LOCKED`` (``run_leases.claim_waiting``).

Nobody polls for work: ``put`` is a ``NOTIFY`` that wakes every worker process's claimer at
once (a slow sweep remains, in case a notification is lost with a connection). Each process
has one claimer, which claims as many runs as it has idle workers, so a burst of runs spreads
over the processes with free workers instead of all of them racing for each run.

A process with an idle worker of its own keeps a run queued through it: no NOTIFY, and its
claimer claims that run by id. Not the oldest waiting run, as a woken claimer does: with
several processes creating runs, that took other processes' runs, which then ran away from
their streams (their events through Redis and back; with 3 processes behind a round robin
18% of the runs, and 3 processes cost 1.27-1.44x the CPU per run of one: ``bench_scale_out``).
A kept run another process's worker holds the thread of (its code_interpreter session) is left
to that process, notified. ``cancel`` notifies every process too; the one executing the run
stops it within a notification's time.
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
        self._kept: list[str] = []  # runs put for this process's workers, not claimed yet
        self._wake = asyncio.Event()
        # Whether runs may wait unclaimed: not after a claim that came back short, until a
        # notification (or the slow sweep) says otherwise. A worker that falls idle, and a run
        # kept here, claim the oldest waiting runs only then: else each run cost an empty
        # claim (a round trip) as its worker finished.
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

    async def put(self, run_id: str) -> None:
        if self._claimer is not None and not self._stopping and self._free_workers() > 0:
            self._kept.append(run_id)
            self._wake.set()
            return
        await self._db.notify(RUNS_CHANNEL, run_id)

    def _free_workers(self) -> int:
        """Idle workers no claimed run and no run kept here is waiting for."""
        return self._idle_workers - self._claimed.qsize() - len(self._kept)

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

    async def _notify_quietly(self) -> None:
        with contextlib.suppress(Exception):
            await self._db.notify(RUNS_CHANNEL, "")

    async def _claim_forever(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before claiming: a notification from now on claims again
            if self._kept:
                await self._claim_kept()
            wanted = self._free_workers()
            claimed: list[RunRecord] = []
            if wanted > 0 and self._maybe_waiting:
                self._maybe_waiting = False  # a notification from now on sets it again
                try:
                    claimed = await run_leases.claim_waiting(self._db, self._lease, wanted)
                except Exception:
                    self._maybe_waiting = True
                    log.exception("claiming queued runs")
            self._hand_out(claimed)
            if claimed and len(claimed) == wanted:
                self._maybe_waiting = True
                continue  # there may be more
            try:
                async with asyncio.timeout(self._sweep_seconds):
                    await self._wake.wait()
            except TimeoutError:
                self._maybe_waiting = True  # the slow sweep: claim whatever waits

    async def _claim_kept(self) -> None:
        kept, self._kept = self._kept, []
        try:
            claimed = await run_leases.claim(self._db, self._lease, kept)
        except Exception:
            log.exception("claiming queued runs")
            claimed = []
        self._hand_out(claimed)
        if len(claimed) < len(kept):
            # Left to the process whose worker holds the thread (or already taken by one).
            with contextlib.suppress(Exception):
                await self._db.notify(RUNS_CHANNEL, "")

    def _hand_out(self, claimed: list[RunRecord]) -> None:
        for row in claimed:
            self._rows[row.id] = row
            self._claimed.put_nowait(row.id)
