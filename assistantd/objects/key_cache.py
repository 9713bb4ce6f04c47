"""Which project a bearer key belongs to, cached in this process.

Authentication runs on every request (the SDK polls a run every few tens of milliseconds), so a
key is looked up in the database once and then answered from memory. What the cache holds may
go stale when a key is deleted, a project archived or a rate limit changed, on any process: each
such change increments the ``auth_generation`` row in its own transaction, and this cache reads
that row at most every ``check_seconds`` (on the first request after the interval, one read
shared by the requests waiting for it) and forgets everything when it moved. So a deleted key
stops working on every process within ``check_seconds`` (``ASSISTANTD_AUTH_CACHE_SECONDS``, 1 s)
of the deletion's commit, without a restart. Unknown keys are cached too (as None), so a client
retrying a wrong key costs no query each time.

A key's ``last_used_at`` is written off the request path: the keys used since the last write
are stamped, in a task of their own, at a check at least ``TOUCH_SECONDS`` after it (so it is
up to about a minute behind).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from assistantd import clock
from assistantd.objects import key_values
from assistantd.store import projects as project_store
from assistantd.store import rate_limits
from assistantd.store.database import Database

# Entries kept at most; beyond it the cache starts over (a flood of made-up keys must not grow
# memory without end).
MAX_ENTRIES = 10_000
TOUCH_SECONDS = 60.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelLimit:
    requests_per_minute: int | None
    tokens_per_minute: int | None


@dataclass(frozen=True)
class Identity:
    """What a request made with one key may reach: its project and that project's tenant."""

    project_id: str
    tenant: str
    key_id: str | None  # None for a key of ASSISTANTD_API_KEYS (not a stored key)
    limits: dict[str, ModelLimit] = field(default_factory=dict)


class KeyCache:
    def __init__(
        self,
        db: Database,
        configured: dict[str, str],
        check_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``configured``: the hash of each ``ASSISTANTD_API_KEYS`` key → its project id."""
        self._db = db
        self._configured = configured
        self._check_seconds = check_seconds
        self._monotonic = monotonic
        self._entries: dict[str, Identity | None] = {}
        self._generation: int | None = None
        self._checked_at = float("-inf")
        self._checking: asyncio.Future[None] | None = None
        self._epoch = 0  # counts the times the cache was emptied
        self._used: set[str] = set()  # stored keys used since their last_used_at was written
        self._touched_at = float("-inf")
        self._touching: asyncio.Task[None] | None = None

    async def identity(self, key: str) -> Identity | None:
        """The key's identity, or None: unknown, deleted, or of an archived project."""
        await self._validate()
        digest = key_values.digest(key)
        if digest in self._entries:
            found = self._entries[digest]
        else:
            found = await self._looked_up(digest)
        if found is not None and found.key_id is not None:
            self._used.add(found.key_id)
        return found

    async def _looked_up(self, digest: str) -> Identity | None:
        epoch = self._epoch
        found = await self._load(digest)
        # A load that overlapped an emptying may have read what the emptying was about.
        if epoch == self._epoch:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[digest] = found
        return found

    async def close(self) -> None:
        if self._touching is not None:
            await self._touching

    async def _validate(self) -> None:
        if self._monotonic() - self._checked_at < self._check_seconds:
            return
        if self._checking is not None:
            await asyncio.shield(self._checking)
            return
        self._checking = asyncio.get_running_loop().create_future()
        try:
            generation = await project_store.generation(self._db)
            if generation != self._generation:
                self._entries.clear()
                self._epoch += 1
                self._generation = generation
            self._checked_at = self._monotonic()
            self._touch_used()
        finally:
            self._checking.set_result(None)
            self._checking = None

    def _touch_used(self) -> None:
        due = self._checked_at - self._touched_at >= TOUCH_SECONDS
        if not self._used or not due or self._touching is not None:
            return
        used, self._used = sorted(self._used), set()
        self._touched_at = self._checked_at
        self._touching = asyncio.create_task(self._write_last_used(used))

    async def _write_last_used(self, key_ids: list[str]) -> None:
        try:
            await project_store.touch_keys(self._db, key_ids, clock.now())
        except Exception:  # a lost stamp is no reason to fail anything; the next one comes
            log.warning("could not record when API keys were last used", exc_info=True)
        finally:
            self._touching = None

    async def _load(self, digest: str) -> Identity | None:
        project_id = self._configured.get(digest)
        if project_id is not None:
            return await self._configured_identity(project_id)
        row = await self._db.read_row(project_store.KEY_OWNER, {"key_hash": digest})
        # The index found the row by the hash; the comparison is repeated in constant time so
        # that no code path compares key material any other way.
        if row is None or not key_values.same(row[1], digest):
            return None
        key_id, _hash, project_id, tenant, archived_at = row
        if archived_at is not None:
            return None
        return Identity(project_id, tenant, key_id, await self._limits(project_id))

    async def _configured_identity(self, project_id: str) -> Identity | None:
        row = await self._db.read_row(project_store.PROJECT, {"id": project_id})
        if row is None or row[4] is not None:
            return None
        return Identity(project_id, row[1], None, await self._limits(project_id))

    async def _limits(self, project_id: str) -> dict[str, ModelLimit]:
        rows = await self._db.read_rows(rate_limits.LIMITS, {"project_id": project_id})
        return {
            model: ModelLimit(requests, tokens)
            for model, requests, tokens in rows
            if requests is not None or tokens is not None
        }
