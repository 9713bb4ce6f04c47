"""How long to wait before retrying a model call: exponential backoff with full jitter.

Without jitter, the workers that one 429 (or one restart of the model server) failed together
all retry at the same instants and fail together again. Each delay is drawn at random from the
attempt's window instead; when the server said how long to wait (``Retry-After``), that is the
least, and the draw spreads the retries over the window after it.

    delay = retry_delay(attempt, asked_seconds, base_seconds=0.2, random=rng)
"""

from __future__ import annotations

import random as _random

# The widest window a retry is drawn from, however many attempts came before.
MAX_WINDOW_SECONDS = 10.0


def retry_window(attempt: int, base_seconds: float) -> float:
    """The width of attempt ``attempt``'s window (0 for the first retry): base × 2^attempt."""
    return min(base_seconds * 2**attempt, MAX_WINDOW_SECONDS)


def retry_delay(
    attempt: int,
    asked_seconds: float | None,
    *,
    base_seconds: float,
    random: _random.Random,
) -> float:
    """``asked_seconds`` (what the server asked, or None) plus a uniform draw from the window."""
    return (asked_seconds or 0.0) + random.uniform(0.0, retry_window(attempt, base_seconds))
