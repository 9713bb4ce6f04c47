"""How often clients should poll runs: the ``openai-poll-after-ms`` the server sends.

The SDK's ``*_and_poll`` helpers sleep what the header says between polls. Polling has a cost
(a request each), so with many clients the interval grows until all of them together poll at
most ``budget`` times a second: the server's time goes to the runs, not to answering "not yet".

Who polls is counted by Little's law: a client told to wait I ms is one poller for the next
I ms, so the intervals handed out over a window, summed and divided by the window, are the
number of clients polling. A poll that finds the run settled is not counted (that client
stops), nor is a run that was polled once and is long done, so short runs at a high rate do
not look like more pollers than there are. Runs executing or queued count too, since a client
polls a run only once it is created.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from assistantd.store import run_statuses


class PollPacer:
    def __init__(
        self,
        base_ms: int,
        budget_per_second: int,
        window_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._base_ms = base_ms
        self._budget = budget_per_second
        self._window_ms = window_seconds * 1000
        self._window_ends = clock() + window_seconds
        self._current_ms = 0  # intervals handed out to waiting clients in this window
        self._previous_ms = 0  # ... and in the last one

    def polled(self, status: str, runs_in_flight: int) -> int:
        """The interval to send with a poll that found its run in ``status``; counts the
        client as a poller for that long if it will poll again."""
        interval = self.interval_ms(runs_in_flight)
        if status in run_statuses.EXECUTING:  # the SDK polls on in these
            self._current_ms += interval
        return interval

    def interval_ms(self, runs_in_flight: int) -> int:
        self._rotate()
        pollers = max(self._current_ms, self._previous_ms) / self._window_ms
        return max(self._base_ms, int(max(pollers, runs_in_flight) * 1000) // self._budget)

    def _rotate(self) -> None:
        now = self._clock()
        if now < self._window_ends:
            return
        # A whole window without polls leaves nothing to remember.
        in_next_window = now < self._window_ends + self._window_ms / 1000
        self._previous_ms = self._current_ms if in_next_window else 0
        self._current_ms = 0
        self._window_ends = now + self._window_ms / 1000
