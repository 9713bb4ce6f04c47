"""What a server process runs besides HTTP: the database, the model router, file services, code
sessions and the run engine, started and stopped in order. The HTTP app (``app.py``) and the
worker process (``assistantd worker``) are built on it.

``execute`` is the process's role: True (``serve``, ``worker``) executes runs, indexes files and
hosts code sessions; False (``serve --no-worker``) only answers the API and hands work over.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from assistantd import tokens
from assistantd.config import Settings
from assistantd.deployment import DeploymentRefused, Presence, local_state
from assistantd.llm.router import ModelRouter
from assistantd.observability import metrics, tracing
from assistantd.retention import RetentionSweeper
from assistantd.retrieval.file_services import FileServices, start_file_services
from assistantd.runs.engine import RunEngine
from assistantd.runs.events import InProcessRunEvents, RunEvents
from assistantd.runs.postgres_queue import PostgresRunQueue
from assistantd.runs.queue import InProcessRunQueue, RunQueue
from assistantd.runs.redis_events import RedisRunEvents
from assistantd.store.database import Database
from assistantd.store.run_leases import Lease
from assistantd.tools.code_interpreter import CodeSessions
from assistantd.tools.code_interpreter.affinity import SessionAffinity
from assistantd.tools.code_interpreter.tool import CodeInterpreterTool
from assistantd.tools.file_search import FileSearchTool

log = logging.getLogger("assistantd")


@dataclass
class Services:
    settings: Settings
    db: Database
    model_router: ModelRouter
    files: FileServices
    code_sessions: CodeSessions
    run_engine: RunEngine
    presence: Presence
    affinity: SessionAffinity | None
    retention: RetentionSweeper

    async def drain(self) -> None:
        """SIGTERM: take no more runs, let those executing finish within the grace period
        (``ASSISTANTD_SHUTDOWN_GRACE_SECONDS``) or hand them back, then end open streams after
        what they hold. ``stop`` follows."""
        await self.run_engine.drain(self.settings.shutdown_grace_seconds)
        self.run_engine.events.end_streams()

    async def stop(self) -> None:
        await self.retention.stop()  # first: it deletes through the file services and sessions
        await self.run_engine.stop()
        if self.affinity is not None:
            await self.affinity.stop()
        await self.presence.leave()
        await self.code_sessions.aclose()
        await self.files.stop()
        await self.model_router.aclose()
        await self.db.dispose()


async def start_services(
    settings: Settings, *, execute: bool = True, role: str = "serve"
) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Prompts are counted in o200k tokens: load the vocabulary (~0.3 s) before serving, not
    # during the first run (a run with a short expiry could lapse waiting for it).
    await asyncio.to_thread(tokens.preload)
    db = Database(settings.resolved_database_url, settings.database_pool_size)
    if applied := await db.migrate():
        log.info("database migrated: applied %s", ", ".join(m.split(" ")[0] for m in applied))
    router = ModelRouter(settings)
    files = await start_file_services(settings, db, execute=execute)
    code_sessions = CodeSessions(settings)
    lease = Lease.for_this_process(settings.run_lease_seconds)
    queue, events = _run_queue(settings, db, lease), await _run_events(settings)
    engine = RunEngine(db, router, settings, files.blobs, events=events, queue=queue, lease=lease)
    # Tools first: the engine resumes interrupted runs as soon as it starts.
    engine.server_tools.register(FileSearchTool(files.ingestion.index, files.ingestion.embedder))
    affinity = None if db.is_sqlite else SessionAffinity(db, lease)
    engine.server_tools.register(CodeInterpreterTool(code_sessions, files.blobs, affinity))
    try:
        presence = await _join_deployment(settings, db, files, lease, role)
    except DeploymentRefused as refusal:
        log.error("refusing to start: %s", refusal)
        await files.stop()
        await events.close()
        await db.dispose()
        raise
    await engine.start(execute=execute)
    _watch(files, code_sessions)
    tracing.configure(settings.otel_endpoint)
    retention = RetentionSweeper(db, files.ingestion, code_sessions, settings)
    retention.start()
    return Services(
        settings, db, router, files, code_sessions, engine, presence, affinity, retention
    )


async def _join_deployment(
    settings: Settings, db: Database, files: FileServices, lease: Lease, role: str
) -> Presence:
    blobs_shared = getattr(files.blobs, "shared", False) or settings.shared_data_dir
    index_shared = getattr(files.ingestion.index, "shared", False)
    kept = local_state(settings, blobs_shared=blobs_shared, index_shared=index_shared)
    return await Presence.join(db, lease.worker, role, kept)


def _watch(files: FileServices, code_sessions: CodeSessions) -> None:
    """The gauges of what this process holds, read at each scrape."""
    metrics.watch(metrics.ingestion_files.labels("in_progress"), files.ingestion.in_progress)
    metrics.watch(metrics.ingestion_files.labels("queued"), files.ingestion.waiting)
    metrics.watch(metrics.code_sessions, code_sessions.live_count)


def _run_queue(settings: Settings, db: Database, lease: Lease) -> RunQueue:
    if db.is_sqlite:
        return InProcessRunQueue()
    return PostgresRunQueue(db, lease, settings.run_sweep_interval_seconds)


async def _run_events(settings: Settings) -> RunEvents:
    if settings.redis_url is None:
        return InProcessRunEvents()
    events = RedisRunEvents(settings.redis_url)
    await events.start()
    return events
