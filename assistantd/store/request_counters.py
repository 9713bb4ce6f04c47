"""Requests counted per project, model and one-minute window, for rate limits.

Three places to count, by deployment: Redis when ``ASSISTANTD_REDIS_URL`` is set (every process
shares it, one round trip), the database on PostgreSQL without Redis (several processes share
it), this process's memory on SQLite (one process).
"""

from __future__ import annotations

from typing import Protocol

import redis.asyncio as redis

from assistantd.store import rate_limits
from assistantd.store.database import Database

WINDOW_SECONDS = 60


class RequestCounter(Protocol):
    async def count(self, project_id: str, model: str, window_start: int) -> int:
        """Count one request in the window; the window's count after it."""
        ...

    async def add(self, project_id: str, model: str, window_start: int, amount: int) -> int:
        """Add ``amount`` (0: only read) to the window's count; the count after it."""
        ...

    async def close(self) -> None: ...


class InProcessCounter:
    def __init__(self) -> None:
        self._windows: dict[tuple[str, str, int], int] = {}

    async def count(self, project_id: str, model: str, window_start: int) -> int:
        return await self.add(project_id, model, window_start, 1)

    async def add(self, project_id: str, model: str, window_start: int, amount: int) -> int:
        key = (project_id, model, window_start)
        if key not in self._windows:
            self._forget_before(window_start)
        self._windows[key] = self._windows.get(key, 0) + amount
        return self._windows[key]

    def _forget_before(self, window_start: int) -> None:
        for key in [k for k in self._windows if k[2] < window_start]:
            del self._windows[key]

    async def close(self) -> None:
        return None


class DatabaseCounter:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._newest_window = 0

    async def count(self, project_id: str, model: str, window_start: int) -> int:
        return await self.add(project_id, model, window_start, 1)

    async def add(self, project_id: str, model: str, window_start: int, amount: int) -> int:
        if window_start > self._newest_window:
            # Once a minute per process: windows two minutes old are no longer read.
            self._newest_window = window_start
            await rate_limits.forget_windows(self._db, window_start - WINDOW_SECONDS)
        return await rate_limits.add_to_window(self._db, project_id, model, window_start, amount)

    async def close(self) -> None:
        return None


class RedisCounter:
    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url)

    async def count(self, project_id: str, model: str, window_start: int) -> int:
        return await self.add(project_id, model, window_start, 1)

    async def add(self, project_id: str, model: str, window_start: int, amount: int) -> int:
        key = f"assistantd:ratelimit:{project_id}:{window_start}:{model}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, amount)
            pipe.expire(key, 2 * WINDOW_SECONDS)
            counted, _ = await pipe.execute()
        return int(counted)

    async def close(self) -> None:
        await self._redis.aclose()


def request_counter(db: Database, redis_url: str | None) -> RequestCounter:
    if redis_url is not None:
        return RedisCounter(redis_url)
    if db.is_sqlite:
        return InProcessCounter()
    return DatabaseCounter(db)
