"""Retries after a failure that hit many runs at once (a 429, a restart) spread out in time."""

from __future__ import annotations

from random import Random

from assistantd.llm import OpenAICompatibleBackend
from assistantd.llm.backoff import MAX_WINDOW_SECONDS, retry_delay
from assistantd.scripted_model.testing import ScriptedModelClient
from tests.llm.collecting import ask, assemble

WORKERS = 64


def test_workers_failed_together_retry_at_different_times_within_the_window() -> None:
    rng = Random(1234)
    for attempt, window in [(0, 0.2), (1, 0.4), (2, 0.8)]:
        delays = [retry_delay(attempt, None, base_seconds=0.2, random=rng) for _ in range(WORKERS)]
        assert len(set(delays)) == WORKERS  # not in step
        assert all(0.0 <= delay <= window for delay in delays)
        assert max(delays) - min(delays) > window / 2  # spread over the window, not bunched


def test_a_servers_retry_after_is_the_least_wait_and_retries_spread_after_it() -> None:
    rng = Random(99)
    delays = [retry_delay(1, 3.0, base_seconds=0.2, random=rng) for _ in range(WORKERS)]
    assert len(set(delays)) == WORKERS
    assert all(3.0 <= delay <= 3.4 for delay in delays)


def test_the_window_stops_growing() -> None:
    rng = Random(5)
    delays = [retry_delay(30, None, base_seconds=0.2, random=rng) for _ in range(WORKERS)]
    assert all(0.0 <= delay <= MAX_WINDOW_SECONDS for delay in delays)


class _RecordingRandom(Random):
    """The backend's random source, noting each window it draws from (and drawing its end)."""

    def __init__(self) -> None:
        super().__init__(0)
        self.windows: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.windows.append((a, b))
        return b


async def test_the_backend_draws_each_retry_from_its_random_source(
    scripted_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    rng = _RecordingRandom()
    backend = OpenAICompatibleBackend(scripted_url, max_retries=3, backoff_seconds=0.01, random=rng)
    await scripted.script(
        model,
        {"status": 429},
        {"status": 503},
        {"status": 429, "headers": {"Retry-After": "0"}},
        {"text": "through"},
    )
    try:
        assembled = await assemble(backend, ask(model))
    finally:
        await backend.aclose()
    assert "".join(assembled.texts) == "through"
    assert rng.windows == [(0.0, 0.01), (0.0, 0.02), (0.0, 0.04)]  # Retry-After or not: one path
