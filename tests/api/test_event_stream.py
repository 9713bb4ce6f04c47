"""The SSE response that carries a run's events, served by uvicorn over real HTTP: events held
before the client came, then live ones, in order, up to the closing event; keep-alives while
idle; and a client that goes away gives its subscription back."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from assistantd.api.streaming import RunFrames, event_stream
from assistantd.runs.events import InProcessRunEvents
from tests.harness.server import free_port
from tests.streaming.frames import Frame, parse_frames

RUN = "run_abc"


class Served:
    """The streaming app on a free port, with its events and the loop they live on."""

    def __init__(self) -> None:
        self.events = InProcessRunEvents()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.base = ""

    def publish(self, event: str, data: dict[str, Any] | None = None) -> None:
        """Publish on the server's loop (as the engine does), and wait until it is done."""
        assert self.loop is not None
        done = asyncio.run_coroutine_threadsafe(self._publish(event, data or {}), self.loop)
        done.result(timeout=10)

    async def _publish(self, event: str, data: dict[str, Any]) -> None:
        self.events.publish(RUN, event, {"object": event, **data})

    def subscribers(self) -> int:
        assert self.loop is not None
        count = asyncio.run_coroutine_threadsafe(self._subscribers(), self.loop)
        return count.result(timeout=10)

    async def _subscribers(self) -> int:
        return self.events.subscribers(RUN)


@pytest.fixture
def served() -> Iterator[Served]:
    served = Served()

    async def events(request: Request) -> Response:
        served.loop = asyncio.get_running_loop()
        after = int(request.query_params.get("after", "0"))
        keepalive = float(request.query_params.get("keepalive", "15"))
        run = request.path_params["run_id"]
        return event_stream(RunFrames(served.events, run, after, keepalive_seconds=keepalive))

    async def loop(request: Request) -> Response:
        served.loop = asyncio.get_running_loop()
        return Response(b"ok")

    app = Starlette(routes=[Route("/runs/{run_id}/events", events), Route("/loop", loop)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    served.base = f"http://127.0.0.1:{port}"
    _wait_until(lambda: server.started)
    httpx.get(f"{served.base}/loop").raise_for_status()
    try:
        yield served
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.01)


@contextlib.contextmanager
def _stream(served: Served, query: str = "") -> Iterator[Iterator[str]]:
    url = f"{served.base}/runs/{RUN}/events{query}"
    with httpx.stream("GET", url, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        yield response.iter_lines()


def _frames(lines: Iterator[str], count: int) -> list[Frame]:
    """The next ``count`` frames (comments skipped), read as they come."""
    frames: list[Frame] = []
    block: list[str] = []
    for line in lines:
        if line:
            block.append(line)
            continue
        frames += [f for f in parse_frames([*block, ""])]
        block = []
        if len(frames) == count:
            return frames
    raise AssertionError(f"the stream ended after {frames}")


def test_held_events_then_live_ones_then_done(served: Served) -> None:
    served.publish("thread.run.created")
    served.publish("thread.run.queued")
    with _stream(served) as lines:
        held = _frames(lines, 2)
        served.publish("thread.message.delta", {"delta": {"text": "a\u2028b"}})
        live = _frames(lines, 1)
        served.publish("thread.run.completed")
        rest = list(parse_frames(lines))
    assert [(f.id, f.event) for f in held] == [(1, "thread.run.created"), (2, "thread.run.queued")]
    assert live[0].id == 3 and live[0].data["delta"] == {"text": "a\u2028b"}
    assert [(f.id, f.event) for f in rest] == [(4, "thread.run.completed"), (None, "done")]


def test_requires_action_closes_the_stream_and_a_later_one_continues_after_it(
    served: Served,
) -> None:
    served.publish("thread.run.created")
    served.publish("thread.run.requires_action")
    with _stream(served) as lines:
        first = list(parse_frames(lines))
    served.publish("thread.run.queued")
    served.publish("thread.run.completed")
    with _stream(served, "?after=2") as lines:
        second = list(parse_frames(lines))
    assert [f.event for f in first] == ["thread.run.created", "thread.run.requires_action", "done"]
    assert [(f.id, f.event) for f in second] == [
        (3, "thread.run.queued"),
        (4, "thread.run.completed"),
        (None, "done"),
    ]


def test_joining_after_the_end_tells_it_all_then_done(served: Served) -> None:
    for name in ("thread.run.created", "thread.run.failed"):
        served.publish(name)
    with _stream(served) as lines:
        frames = list(parse_frames(lines))
    assert [f.event for f in frames] == ["thread.run.created", "thread.run.failed", "done"]


def test_an_idle_stream_sends_keepalives_and_still_delivers(served: Served) -> None:
    served.publish("thread.run.created")
    with _stream(served, "?keepalive=0.05") as lines:
        seen: list[str] = []
        for line in lines:
            seen.append(line)
            if seen.count(": keep-alive") == 2:
                break
        served.publish("thread.run.completed")
        rest = list(parse_frames(lines))
    assert seen[:3] == [
        "id: 1",
        "event: thread.run.created",
        'data: {"object":"thread.run.created"}',
    ]
    assert [f.event for f in rest] == ["thread.run.completed", "done"]


def test_a_client_that_goes_away_gives_its_subscription_back(served: Served) -> None:
    served.publish("thread.run.created")
    with _stream(served) as lines:
        _frames(lines, 1)
        assert served.subscribers() == 1
    # The connection is closed while the run publishes nothing: the stream notices anyway.
    _wait_until(lambda: served.subscribers() == 0)
    served.publish("thread.run.completed")
    assert served.subscribers() == 0


async def test_subscribe_gives_events_back_whole_however_they_are_held() -> None:
    events = InProcessRunEvents()
    step = {"object": "thread.run.step", "type": "tool_calls", "step_details": {"tool_calls": []}}
    searched = {**step, "step_details": {"tool_calls": [{"type": "file_search"}]}}
    published = [
        ("thread.run.step.created", step),  # held as its frame
        ("thread.run.step.completed", searched),  # held whole: include[] changes its frame
        ("thread.message.delta", {"delta": {"value": "é\u2028"}}),
        ("thread.run.completed", {"object": "thread.run"}),
    ]
    for name, data in published:
        events.publish(RUN, name, data)
    received = [(e.seq, e.event, e.data) async for e in events.subscribe(RUN)]
    assert received == [(seq, name, data) for seq, (name, data) in enumerate(published, 1)]
