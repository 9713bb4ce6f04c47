"""The two bounds on one model call: silence between events, and the whole call.

aiohttp's ``sock_read`` timeout restarts on any byte, so a server sending ``: keep-alive``
comments (or one that streams forever) never trips it, and the run sits ``in_progress`` until it
expires. Here only a decoded event counts as progress (``progressed``), and the whole call, its
retries and their backoff included, has an end (``ends_at``).

Per-read ``asyncio.timeout`` would allocate a timer per token; instead one watchdog timer per
response wakes when the next bound is due, re-arms itself if there was progress meanwhile, and
otherwise fails the response's reader, so that its pending (or next) read raises.

    deadline = CallDeadline(gap_seconds=120, total_seconds=600)
    with deadline.watching(response.content):
        ...  # reads; call deadline.progressed() per event
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp

from assistantd.llm.errors import UpstreamError


class StreamTimedOut(TimeoutError):
    """What a watched reader raises once a bound has passed."""


class CallDeadline:
    def __init__(self, gap_seconds: float, total_seconds: float) -> None:
        self._loop = asyncio.get_running_loop()
        self.gap_seconds = gap_seconds
        self.total_seconds = total_seconds
        self.ends_at = self._loop.time() + total_seconds
        self._last_progress = self._loop.time()

    def progressed(self) -> None:
        """An event arrived (or an attempt starts): the silence starts over."""
        self._last_progress = self._loop.time()

    def next_due(self) -> float:
        """The loop time at which the call fails unless it progresses."""
        return min(self._last_progress + self.gap_seconds, self.ends_at)

    def total_passed(self, extra_seconds: float = 0.0) -> bool:
        return self._loop.time() + extra_seconds >= self.ends_at

    def total_failure(self) -> UpstreamError:
        return UpstreamError(
            "server_error",
            f"timed out: the model call did not finish within {self.total_seconds:g} s "
            "(ASSISTANTD_LLM_TOTAL_TIMEOUT_SECONDS)",
        )

    @contextmanager
    def watching(self, reader: aiohttp.StreamReader) -> Iterator[None]:
        handle: asyncio.TimerHandle | None = None

        def check() -> None:
            nonlocal handle
            due = self.next_due()
            if self._loop.time() < due:
                handle = self._loop.call_at(due, check)  # progress since: wait on
                return
            what = "the whole call" if self.total_passed() else "silence"
            reader.set_exception(StreamTimedOut(f"{what} passed its bound"))

        handle = self._loop.call_at(self.next_due(), check)
        try:
            yield
        finally:
            handle.cancel()
