"""Which runs are ready to execute: the hand-off between the API (a run was created, tool
outputs were submitted, a cancel was asked for) and the workers.

The queue hands out run ids; the run's state lives in the database, and a worker holds a run
there (a lease) while executing it, so an id delivered twice, or to several processes, does no
harm. ``InProcessRunQueue`` serves the embedded default (one process); ``PostgresRunQueue``
(``postgres_queue.py``) lets any worker process take any run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from assistantd.store.run_rows import RunRecord


class RunQueue(Protocol):
    # Whether the queue itself claims runs for this worker (so runs are created held by
    # nobody), or hands over runs the API claimed for this process when it queued them.
    claims: bool

    async def start(self, on_cancel: Callable[[str], None], *, execute: bool) -> None:
        """Begin; ``on_cancel(run_id)`` is told of cancels asked of any process. ``execute``:
        whether this process takes runs (False: it only hands them over)."""
        ...

    async def put(self, run_id: str) -> None:
        """Make the run available to a worker."""
        ...

    async def cancel(self, run_id: str) -> None:
        """Tell whichever worker executes the run that it is to stop."""
        ...

    async def get(self) -> str:
        """The next run id to execute; waits until there is one."""
        ...

    def claimed(self, run_id: str) -> RunRecord | None:
        """The run as this queue claimed it, if it did (once, just after ``get`` handed it
        out): the executor starts from it without reading the run again."""
        ...

    def pending(self) -> int:
        """How many run ids wait for a worker here (an estimate is fine)."""
        ...

    async def stop(self) -> None: ...


class InProcessRunQueue:
    claims = False

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue()

    async def start(self, on_cancel: Callable[[str], None], *, execute: bool) -> None:
        return  # a cancel is asked of this process, the only one: the engine sees it first

    async def put(self, run_id: str) -> None:
        self._queue.put_nowait(run_id)

    async def cancel(self, run_id: str) -> None:
        await self.put(run_id)  # not executing here, so queued: a worker closes it

    async def get(self) -> str:
        return await self._queue.get()

    def claimed(self, run_id: str) -> RunRecord | None:
        return None  # claimed by the request that queued it

    def pending(self) -> int:
        return self._queue.qsize()

    async def stop(self) -> None:
        return
