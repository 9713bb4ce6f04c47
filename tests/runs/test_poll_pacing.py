"""openai-poll-after-ms: the base interval for a few clients, longer for many (poll budget)."""

from __future__ import annotations

from assistantd.runs.poll_pacing import PollPacer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def poll_for(pacer: PollPacer, clock: Clock, clients: int, seconds: float) -> int:
    """``clients`` polling runs in progress, each at the interval it is told, for ``seconds``;
    the last interval handed out."""
    next_poll = [clock.now + n / clients / 20 for n in range(clients)]  # spread over 50 ms
    interval = 0
    while min(next_poll) < seconds:
        client = next_poll.index(min(next_poll))
        clock.now = next_poll[client]
        interval = pacer.polled("in_progress", runs_in_flight=0)
        next_poll[client] += interval / 1000
    return interval


def test_few_pollers_get_the_base_interval() -> None:
    clock = Clock()
    pacer = PollPacer(base_ms=50, budget_per_second=400, clock=clock)
    assert poll_for(pacer, clock, clients=2, seconds=5.0) == 50


def test_many_pollers_share_the_budget() -> None:
    clock = Clock()
    pacer = PollPacer(base_ms=50, budget_per_second=400, clock=clock)
    # 200 clients polling every 500 ms make 400 polls a second.
    assert 450 <= poll_for(pacer, clock, clients=200, seconds=10.0) <= 520


def test_runs_in_flight_count_before_their_first_poll() -> None:
    pacer = PollPacer(base_ms=50, budget_per_second=400)
    assert pacer.interval_ms(runs_in_flight=100) == 250


def test_polls_that_find_the_run_settled_do_not_count() -> None:
    """Short runs at a high rate: each client's last poll sees its run completed (or waiting
    for tool outputs) and stops, so those polls are not pollers."""
    pacer = PollPacer(base_ms=50, budget_per_second=400)
    for _ in range(1000):
        pacer.polled("completed", runs_in_flight=0)
        pacer.polled("requires_action", runs_in_flight=0)
    assert pacer.interval_ms(runs_in_flight=0) == 50


def test_the_interval_falls_back_once_the_pollers_are_gone() -> None:
    clock = Clock()
    pacer = PollPacer(base_ms=50, budget_per_second=400, clock=clock)
    for _ in range(400):
        pacer.polled("queued", runs_in_flight=100)  # 100 clients, each told 250 ms
    assert pacer.interval_ms(runs_in_flight=0) == 250
    clock.now = 1.5  # in the next window the last window's pollers still count
    assert pacer.interval_ms(runs_in_flight=0) == 250
    clock.now = 4.0  # two idle windows: nobody polls any more
    assert pacer.interval_ms(runs_in_flight=0) == 50
