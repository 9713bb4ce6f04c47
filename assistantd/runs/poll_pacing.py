"""How often clients should poll runs: the ``openai-poll-after-ms`` the server sends.

The SDK's ``*_and_poll`` helpers sleep what the header says between polls. Polling has a cost
(a request each), so with many clients the interval grows until all of them together poll at
most ``budget`` times a second: the server's time goes to the runs, not to answering "not yet".
Who polls is counted over the last one to two seconds (distinct runs polled), together with the
runs executing or queued, since a client polls a run only once it is created.
"""

from __future__ import annotations

import time


class PollPacer:
    def __init__(self, base_ms: int, budget_per_second: int, window_seconds: float = 1.0) -> None:
        self._base_ms = base_ms
        self._budget = budget_per_second
        self._window = window_seconds
        self._window_ends = time.monotonic() + window_seconds
        self._current: set[str] = set()
        self._previous: set[str] = set()

    def polled(self, run_id: str) -> None:
        """Count a poll of ``run_id``."""
        self._rotate()
        self._current.add(run_id)

    def interval_ms(self, runs_in_flight: int) -> int:
        self._rotate()
        pollers = max(len(self._current), len(self._previous), runs_in_flight)
        return max(self._base_ms, pollers * 1000 // self._budget)

    def _rotate(self) -> None:
        now = time.monotonic()
        if now < self._window_ends:
            return
        # A whole window without polls leaves nothing to remember.
        self._previous = self._current if now < self._window_ends + self._window else set()
        self._current = set()
        self._window_ends = now + self._window
