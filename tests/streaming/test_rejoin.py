"""A client that leaves does not stop the run, and any client can join a run's events later:
from ``Last-Event-ID`` (no gap, no duplicate), a run started without streaming, and a run whose
events the server no longer holds (after a restart), told from the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.runs.conftest import Scripted, wait_for
from tests.streaming.frames import Frame, parse_frames

SLOW = {"chunks": [f"w{n} " for n in range(30)], "chunk_delay_ms": 20}
SLOW_TEXT = "".join(SLOW["chunks"])


def _read_until(http: httpx.Client, path: str, body: dict[str, Any], stop: int) -> list[Frame]:
    """Open a stream, read ``stop`` frames, and hang up."""
    frames: list[Frame] = []
    with http.stream("POST", path, json={**body, "stream": True}) as response:
        for frame in parse_frames(response.iter_lines()):
            frames.append(frame)
            if len(frames) == stop:
                break
    return frames


def _join(http: httpx.Client, path: str, **headers: str) -> list[Frame]:
    with http.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(parse_frames(response.iter_lines()))


def _text(frames: list[Frame]) -> str:
    return "".join(
        part["text"].get("value", "")
        for f in frames
        if f.event == "thread.message.delta"
        for part in f.data["delta"]["content"]
    )


def test_a_client_that_hangs_up_leaves_the_run_to_finish(
    http: httpx.Client, client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any,
    thread: Any,
) -> None:  # fmt: skip
    scripted.script(model, SLOW)
    frames = _read_until(http, f"/threads/{thread.id}/runs", {"assistant_id": assistant.id}, 9)
    assert frames[-1].event == "thread.message.delta"
    run_id = frames[0].data["id"]
    run = wait_for(
        lambda: client.beta.threads.runs.retrieve(run_id, thread_id=thread.id),
        lambda r: r.status not in ("queued", "in_progress"),
    )
    assert run.status == "completed"
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run_id).data
    assert message.content[0].text.value == SLOW_TEXT


def test_rejoining_with_last_event_id_misses_nothing_and_repeats_nothing(
    http: httpx.Client, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, SLOW)
    first = _read_until(http, f"/threads/{thread.id}/runs", {"assistant_id": assistant.id}, 10)
    run_id = first[0].data["id"]
    last = first[-1].id
    assert last is not None
    rest = _join(http, f"/threads/{thread.id}/runs/{run_id}/events", **{"Last-Event-ID": str(last)})
    assert rest[-1].event == "done" and rest[-2].event == "thread.run.completed"
    ids = [f.id for f in first + rest[:-1]]
    assert ids == list(range(1, len(ids) + 1))
    assert _text(first + rest) == SLOW_TEXT


def test_any_run_can_be_joined_from_the_start_or_after_an_event(
    http: httpx.Client, client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any,
    thread: Any,
) -> None:  # fmt: skip
    scripted.script(model, {"text": "Not streamed, still watchable."})
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    path = f"/threads/{thread.id}/runs/{run.id}/events"
    whole = _join(http, path)
    assert whole[0] == Frame(1, "thread.run.created", whole[0].data)
    assert [f.event for f in whole[-2:]] == ["thread.run.completed", "done"]
    assert _text(whole) == "Not streamed, still watchable."
    tail = _join(http, f"{path}?after=3")
    assert tail == whole[3:]
    assert _join(http, path, **{"Last-Event-ID": str(whole[-2].id)}) == [whole[-1]]


def test_joining_a_missing_run_or_with_a_bad_event_id_is_refused(
    http: httpx.Client, client: openai.OpenAI, assistant: Any, thread: Any
) -> None:
    assert http.get(f"/threads/{thread.id}/runs/run_missing/events").status_code == 404
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    bad = http.get(f"/threads/{thread.id}/runs/{run.id}/events", headers={"Last-Event-ID": "seven"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "Last-Event-ID"


@pytest.fixture
def restartable(
    backend: str, scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    data_dir = tmp_path_factory.mktemp(f"restart-{backend}")
    with fresh_database(backend, data_dir) as url:
        yield data_dir, url


def test_after_a_restart_a_run_is_told_from_the_database(
    restartable: tuple[Path, str], scripted_model_url: str, scripted: Scripted, model: str,
    contract_log: ContractLog,
) -> None:  # fmt: skip
    data_dir, url = restartable
    settings = make_settings(data_dir, url, llm_base_url=scripted_model_url)
    weather = {"type": "function", "function": {"name": "get_weather"}}
    scripted.script(
        model,
        {"text": "Done: it is sunny."},
        {"chunks": ["Let me check. "], "tool_calls": [{"id": "call_w", "name": "get_weather"}]},
    )
    with running_server(settings) as base:
        client = sdk_client(base, contract_log)
        assistant = client.beta.assistants.create(model=model, tools=[weather])
        finished = client.beta.threads.create_and_run_poll(
            assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "Hi"}]}
        )
        waiting = client.beta.threads.create_and_run_poll(
            assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "Hi"}]}
        )
        assert (finished.status, waiting.status) == ("completed", "requires_action")
    with (
        running_server(settings) as base,
        httpx.Client(base_url=f"{base}/v1", timeout=30) as http,
    ):
        told = _join(http, f"/threads/{finished.thread_id}/runs/{finished.id}/events")
        assert [f.event for f in told] == [
            "thread.run.created",
            "thread.run.step.created",
            "thread.message.created",
            "thread.message.delta",
            "thread.message.completed",
            "thread.run.step.completed",
            "thread.run.completed",
            "done",
        ]
        assert [f.id for f in told[:-1]] == list(range(1, 8))
        assert told[2].data["content"] == []
        assert _text(told) == "Done: it is sunny."
        # A Last-Event-ID from before the restart cannot be honoured: the whole story again.
        again = _join(
            http,
            f"/threads/{finished.thread_id}/runs/{finished.id}/events",
            **{"Last-Event-ID": "4"},
        )
        assert again == told

        paused = _join(http, f"/threads/{waiting.thread_id}/runs/{waiting.id}/events")
        names = [f.event for f in paused]
        assert names[0] == "thread.run.created"
        assert names[-2:] == ["thread.run.requires_action", "done"]
        assert _text(paused) == "Let me check. "
        [delta] = [f.data for f in paused if f.event == "thread.run.step.delta"]
        [call] = delta["delta"]["step_details"]["tool_calls"]
        assert call["index"] == 0 and call["id"] == "call_w"
