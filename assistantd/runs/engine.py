"""The run engine: background workers that execute queued runs, a heartbeat that keeps their
leases, and a sweeper that expires runs left waiting for tool outputs and recovers runs whose
worker died. Started and stopped with the application.

    engine = RunEngine(db, model_router, settings, blobs)
    await engine.start()
    engine.events.subscribe(run_id)          # what streaming consumes
    engine.server_tools.register(tool)       # code_interpreter, file_search
    await engine.stop()
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from assistantd.clock import now
from assistantd.config import Settings
from assistantd.llm.router import ModelRouter
from assistantd.observability import metrics
from assistantd.observability.run_ends import run_ended
from assistantd.runs.events import InProcessRunEvents, RunEvents
from assistantd.runs.executor import Executor
from assistantd.runs.poll_pacing import PollPacer
from assistantd.runs.queue import InProcessRunQueue, RunQueue
from assistantd.runs.transitions import Event, discard_open_work, finish_run
from assistantd.store import run_leases as leases
from assistantd.store import run_rows, run_statuses
from assistantd.store.blobs import BlobStore
from assistantd.store.database import Database
from assistantd.store.run_leases import Lease
from assistantd.tools.registry import ServerToolRegistry

log = logging.getLogger(__name__)

# Polls per second the server invites from all clients together: with many runs polled or in
# flight, ``openai-poll-after-ms`` grows so that polling does not eat the time the runs need
# (a poll costs ~0.3 ms of server CPU: 400 a second take about an eighth of a core).
POLL_BUDGET_PER_SECOND = 400


class RunEngine:
    def __init__(
        self,
        db: Database,
        router: ModelRouter,
        settings: Settings,
        blobs: BlobStore,
        *,
        events: RunEvents | None = None,
        queue: RunQueue | None = None,
        lease: Lease | None = None,
        server_tools: ServerToolRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.events: RunEvents = events or InProcessRunEvents()
        self.queue: RunQueue = queue or InProcessRunQueue()
        self.server_tools = server_tools or ServerToolRegistry()
        self.lease = lease or Lease.for_this_process(settings.run_lease_seconds)
        self._db = db
        self._executor = Executor(
            db, router, self.events, self.server_tools, settings, self.lease, blobs
        )
        self._cancels: dict[str, asyncio.Event] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._workers: list[asyncio.Task[None]] = []
        # Workers executing a run, by run id (``drain`` waits for them, then hands back the rest).
        self._executing: dict[str, asyncio.Task[None]] = {}
        self._draining = False
        self.polls = PollPacer(settings.poll_after_ms, POLL_BUDGET_PER_SECOND)

    @property
    def lease_for_new_runs(self) -> Lease | None:
        """Whom a run is held by when it is queued: nobody when the queue claims runs for its
        workers (any process may take it); else this process, whose in-process queue has it."""
        return None if self.queue.claims else self.lease

    async def start(self, *, execute: bool = True) -> None:
        """Start handing runs over; ``execute``: also execute them here (workers, their
        leases' heartbeat, and the sweeper that expires and recovers runs)."""
        await self.queue.start(self._cancelled_elsewhere, execute=execute)
        if not execute:
            return
        # Right after start-up on SQLite (one server process per database), every run still
        # marked as executing was left by a process that is gone; on PostgreSQL only runs whose
        # lease lapsed are (other live servers may share the database).
        await self.recover(all_unowned=self._db.is_sqlite)
        self._workers = [
            asyncio.create_task(self._work(), name=f"run-worker-{n}")
            for n in range(self.settings.run_workers)
        ]
        self._tasks = list(self._workers)
        self._tasks.append(asyncio.create_task(self._heartbeat(), name="run-heartbeat"))
        self._tasks.append(asyncio.create_task(self._sweep(), name="run-sweeper"))

    async def drain(self, grace_seconds: float) -> None:
        """Shutting down: take no more runs, give those executing here ``grace_seconds`` to
        finish, then hand back the ones still going (queued again, their half-written turn
        undone) to another process, or to this one's next start. Leases are renewed meanwhile."""
        self._draining = True  # a worker ends once its run has
        for task in self._workers:
            if task not in self._executing.values():
                task.cancel()  # idle: waiting for a run it will now never take
        running = dict(self._executing)
        if running:
            log.info("waiting up to %gs for %d runs to finish", grace_seconds, len(running))
            await asyncio.wait(running.values(), timeout=grace_seconds)
        unfinished = [run_id for run_id, task in running.items() if not task.done()]
        for run_id in unfinished:
            running[run_id].cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        for run_id in unfinished:
            try:
                await self._recover_one(run_id, forced=True)
                await self.queue.put(run_id)  # another process's worker may take it now
            except Exception:  # its lease lapses instead, and another process recovers it
                log.exception("handing back run %s", run_id)
        if unfinished:
            log.info("handed back %d unfinished runs", len(unfinished))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.queue.stop()
        await self.events.close()

    def poll_after_ms(self, status: str | None = None) -> int:
        """How long clients should wait between polls: the configured interval, or longer when
        so many clients poll or runs are in flight that polling at that rate would exceed the
        poll budget (see ``poll_pacing``). ``status``: the run's, when a client polled it."""
        in_flight = len(self._cancels) + self.queue.pending()
        if status is None:
            return self.polls.interval_ms(in_flight)
        return self.polls.polled(status, in_flight)

    # --- what the API tells the engine ------------------------------------------------------

    async def run_created(self, run: dict[str, Any]) -> None:
        self.events.publish(run["id"], "thread.run.created", run)
        self.events.publish(run["id"], "thread.run.queued", run)
        await self._hand_over(run["id"])

    async def tool_outputs_submitted(self, run: dict[str, Any], step: dict[str, Any]) -> None:
        self.events.publish(run["id"], "thread.run.step.completed", step)
        self.events.publish(run["id"], "thread.run.queued", run)
        await self._hand_over(run["id"])

    async def cancel_requested(self, run: dict[str, Any]) -> None:
        self.events.publish(run["id"], "thread.run.cancelling", run)
        if (signal := self._cancels.get(run["id"])) is not None:
            signal.set()  # executing here: stop it now
            return
        await self.events.flush()
        await self.queue.cancel(run["id"])

    async def _hand_over(self, run_id: str) -> None:
        # The worker that takes the run may be another process: what was published here goes
        # out first, so the run's events keep their order.
        await self.events.flush()
        await self.queue.put(run_id)

    def _cancelled_elsewhere(self, run_id: str) -> None:
        if (signal := self._cancels.get(run_id)) is not None:
            signal.set()

    # --- workers ----------------------------------------------------------------------------

    async def _work(self) -> None:
        while not self._draining:
            run_id = await self.queue.get()
            claimed = self.queue.claimed(run_id)
            if run_id in self._cancels:
                continue  # already executing here
            signal = self._cancels[run_id] = asyncio.Event()
            self._executing[run_id] = asyncio.current_task()  # type: ignore[assignment]
            try:
                with metrics.runs_executing.track_inprogress():
                    await self._executor.execute(run_id, signal, claimed)
                # DEBUG: the INFO line a run costs is the one its end writes (run_ends).
                log.debug("run %s executed by %s", run_id, self.lease.worker)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("executing run %s", run_id)
            finally:
                self._cancels.pop(run_id, None)
                self._executing.pop(run_id, None)

    async def _heartbeat(self) -> None:
        interval = max(self.lease.seconds / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                held = await leases.renew(self._db, self.lease, interval)
            except Exception:
                log.exception("renewing run leases")
                continue
            for run_id, status in held:
                if status == "cancelling" and (signal := self._cancels.get(run_id)) is not None:
                    signal.set()  # cancelled through another server process

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.settings.run_sweep_interval_seconds)
            try:
                await self.expire_overdue()
                await self.recover(all_unowned=False)
            except Exception:
                log.exception("sweeping runs")

    # --- expiry and recovery ----------------------------------------------------------------

    async def expire_overdue(self) -> None:
        async with self._db.read() as session:
            overdue = await leases.overdue(session, now())
        for run_id in overdue:
            if (signal := self._cancels.get(run_id)) is not None:
                # Executing here: the executor ends it as expired, keeping the partial reply.
                signal.set()
                continue
            async with self._db.write() as session:
                row = await run_rows.lock_run(session, run_id)
                if row is None or row.status not in run_statuses.EXPIRING:
                    continue
                if (row.expires_at or 0) > now():
                    continue
                if row.status != "requires_action" and not self.lease.can_take(row):
                    continue  # another live process holds it; its own sweeper ends it
                events = await finish_run(session, row, "expired")
                await run_rows.save_run(session, row)
            self._publish(run_id, events)
            run_ended(events[-1][1], row.tenant, None)

    async def recover(self, *, all_unowned: bool) -> None:
        # A queue that claims runs takes queued and cancelling ones itself, lapsed leases too:
        # only a run caught executing needs its half-written turn undone first.
        statuses = ("in_progress",) if self.queue.claims else run_statuses.EXECUTING
        async with self._db.read() as session:
            abandoned = await leases.abandoned(
                session, self.lease, all_unowned=all_unowned, statuses=statuses
            )
        for run_id in abandoned:
            if run_id in self._cancels:
                continue
            if await self._recover_one(run_id, all_unowned):
                await self.queue.put(run_id)

    async def _recover_one(self, run_id: str, forced: bool) -> bool:
        """Requeue a run whose worker died, forgetting its half-written turn; True if requeued."""
        async with self._db.write() as session:
            row = await run_rows.lock_run(session, run_id)
            if row is None or row.status not in run_statuses.EXECUTING:
                return False
            if not forced and not self.lease.can_take(row):
                return False
            if row.status == "cancelling":
                events: list[Event] = await finish_run(session, row, "cancelled")
            else:
                events = await discard_open_work(session, row)
                data = {**row.data, "status": "queued"}
                row.status = "queued"
                if self.queue.claims:
                    leases.release(row)  # any worker may take it now
                else:
                    self.lease.take(row)
                row.data = data
                events.append(("thread.run.queued", data))
            await run_rows.save_run(session, row)
        log.info("recovered run %s (%s)", run_id, row.status)
        self._publish(run_id, events)
        if row.status == "cancelled":
            run_ended(events[-1][1], row.tenant, None)
        await self.events.flush()
        return row.status == "queued"

    def _publish(self, run_id: str, events: list[Event]) -> None:
        for name, data in events:
            self.events.publish(run_id, name, data)
