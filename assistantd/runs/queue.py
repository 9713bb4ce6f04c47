"""Which runs are ready to execute: the hand-off between the API (a run was created, or tool
outputs were submitted) and the workers.

The queue holds run ids only; the run's state lives in the database, and a worker claims a run
there (a lease) before executing it, so a queue may deliver an id twice or to several processes
without harm. The in-process queue serves the embedded default; a durable queue (e.g. a
PostgreSQL table polled with ``FOR UPDATE SKIP LOCKED``) can implement the same interface.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class RunQueue(Protocol):
    async def put(self, run_id: str) -> None:
        """Make the run available to a worker."""
        ...

    async def get(self) -> str:
        """The next run id to execute; waits until there is one."""
        ...

    def pending(self) -> int:
        """How many run ids wait for a worker (an estimate is fine)."""
        ...


class InProcessRunQueue:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()

    async def put(self, run_id: str) -> None:
        self._queue.put_nowait(run_id)

    async def get(self) -> str:
        return await self._queue.get()

    def pending(self) -> int:
        return self._queue.qsize()
