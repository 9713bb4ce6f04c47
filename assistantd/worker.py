"""``assistantd worker``: a process that executes runs, indexes files and hosts code sessions,
with no HTTP, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import start_http_server

from assistantd.config import Settings
from assistantd.observability import metrics
from assistantd.services import start_services
from assistantd.store import readiness
from assistantd.store.database import Database

log = logging.getLogger("assistantd")
QUEUE_DEPTH_SECONDS = 5.0  # how often a worker reads the queue depth it exports


async def run_worker(settings: Settings) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    services = await start_services(settings, execute=True, role="worker")
    depth = None
    if settings.metrics_port is not None:
        # No HTTP of its own: Prometheus' client serves the scrapes from a thread, which cannot
        # ask the database; the queue depth is read here instead, every few seconds.
        start_http_server(settings.metrics_port, settings.metrics_host)
        depth = asyncio.create_task(_read_queue_depth(services.db), name="queue-depth")
        log.info("metrics at http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    log.info("worker %s started", services.run_engine.lease.worker)
    try:
        await stopping.wait()
    finally:
        if depth is not None:
            depth.cancel()
        log.info("worker stopping")
        await services.drain()
        await services.stop()


async def _read_queue_depth(db: Database) -> None:
    while True:
        try:
            metrics.run_queue_depth.set(await readiness.runs_waiting(db))
        except Exception as error:
            log.warning("queue depth not read: %s", error)
        await asyncio.sleep(QUEUE_DEPTH_SECONDS)
