"""``assistantd worker``: a process that executes runs, indexes files and hosts code sessions,
with no HTTP, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import start_http_server

from assistantd.config import Settings
from assistantd.services import start_services

log = logging.getLogger("assistantd")


async def run_worker(settings: Settings) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    services = await start_services(settings, execute=True, role="worker")
    if settings.metrics_port is not None:
        # No HTTP of its own: Prometheus' client serves the scrapes from a thread.
        start_http_server(settings.metrics_port, settings.metrics_host)
        log.info("metrics at http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
    log.info("worker %s started", services.run_engine.lease.worker)
    try:
        await stopping.wait()
    finally:
        log.info("worker stopping")
        await services.stop()
