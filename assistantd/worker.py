"""``assistantd worker``: a process that executes runs, indexes files and hosts code sessions,
with no HTTP, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from assistantd.config import Settings
from assistantd.services import start_services

log = logging.getLogger("assistantd")


async def run_worker(settings: Settings) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    services = await start_services(settings, execute=True, role="worker")
    log.info("worker %s started", services.run_engine.lease.worker)
    try:
        await stopping.wait()
    finally:
        log.info("worker stopping")
        await services.drain()
        await services.stop()
