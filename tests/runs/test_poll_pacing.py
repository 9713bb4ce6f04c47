"""openai-poll-after-ms: the base interval for a few clients, longer for many (poll budget)."""

from __future__ import annotations

import time

from assistantd.runs.poll_pacing import PollPacer


def test_few_pollers_get_the_base_interval() -> None:
    pacer = PollPacer(base_ms=50, budget_per_second=400)
    for run in ("run_a", "run_b", "run_a"):
        pacer.polled(run)
    assert pacer.interval_ms(runs_in_flight=2) == 50


def test_many_pollers_share_the_budget() -> None:
    pacer = PollPacer(base_ms=50, budget_per_second=400)
    for n in range(200):
        pacer.polled(f"run_{n}")
        pacer.polled(f"run_{n}")  # a run polled twice is one poller
    # 200 clients polling every 500 ms make 400 polls a second.
    assert pacer.interval_ms(runs_in_flight=0) == 500


def test_runs_in_flight_count_before_their_first_poll() -> None:
    pacer = PollPacer(base_ms=50, budget_per_second=400)
    assert pacer.interval_ms(runs_in_flight=100) == 250


def test_the_interval_falls_back_once_the_pollers_are_gone() -> None:
    pacer = PollPacer(base_ms=50, budget_per_second=400, window_seconds=0.05)
    for n in range(100):
        pacer.polled(f"run_{n}")
    assert pacer.interval_ms(runs_in_flight=0) == 250
    time.sleep(0.06)  # one window later the last window's pollers still count
    assert pacer.interval_ms(runs_in_flight=0) == 250
    time.sleep(0.12)  # two idle windows: nobody polls any more
    assert pacer.interval_ms(runs_in_flight=0) == 50
