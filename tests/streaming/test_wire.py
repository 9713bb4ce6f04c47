"""The stream on the wire (raw HTTP): frame format, the exact event order of a plain run and of
a run with parallel function calls, tool-call deltas as the SDK merges them, the closing done
frame, and requests refused before any stream starts."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.runs.conftest import Scripted
from tests.streaming.frames import Frame, parse_frames, squeeze

WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}
MESSAGE_STEP = [
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.message.created",
    "thread.message.in_progress",
    "thread.message.delta*",
    "thread.message.completed",
    "thread.run.step.completed",
]


def stream(http: httpx.Client, path: str, body: dict[str, Any]) -> list[Frame]:
    with http.stream("POST", path, json={**body, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(parse_frames(response.iter_lines()))


def test_a_plain_run_streams_every_event_in_order_then_done(
    http: httpx.Client, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, {"chunks": ["Hello", ", ", "world", "!"]})
    frames = stream(http, f"/threads/{thread.id}/runs", {"assistant_id": assistant.id})
    assert frames[-1] == Frame(None, "done", "[DONE]")
    events = frames[:-1]
    assert [f.id for f in events] == list(range(1, len(events) + 1))
    assert squeeze([f.event for f in events]) == [
        "thread.run.created",
        "thread.run.queued",
        "thread.run.in_progress",
        *MESSAGE_STEP,
        "thread.run.completed",
    ]
    created = next(f.data for f in events if f.event == "thread.message.created")
    deltas = [f.data for f in events if f.event == "thread.message.delta"]
    assert all(d["id"] == created["id"] and d["object"] == "thread.message.delta" for d in deltas)
    parts = [part for d in deltas for part in d["delta"]["content"]]
    assert all(part["index"] == 0 and part["type"] == "text" for part in parts)
    assert [part["text"]["value"] for part in parts] == ["Hello", ", ", "world", "!"]
    completed = next(f.data for f in events if f.event == "thread.message.completed")
    assert completed["content"][0]["text"]["value"] == "Hello, world!"


def test_thread_and_run_opens_with_thread_created(
    http: httpx.Client, scripted: Scripted, model: str, assistant: Any
) -> None:
    scripted.script(model, {"text": "Yes."})
    body = {
        "assistant_id": assistant.id,
        "thread": {"messages": [{"role": "user", "content": "?"}]},
    }
    frames = stream(http, "/threads/runs", body)
    assert [f.event for f in frames[:2]] == ["thread.created", "thread.run.created"]
    assert frames[0].data["object"] == "thread"
    assert frames[1].data["thread_id"] == frames[0].data["id"]
    assert [f.event for f in frames[-2:]] == ["thread.run.completed", "done"]


def test_parallel_calls_stream_as_the_sdk_merges_them_and_the_submit_stream_continues(
    http: httpx.Client, client: openai.OpenAI, scripted: Scripted, model: str, thread: Any
) -> None:
    assistant = client.beta.assistants.create(model=model, tools=[WEATHER])
    scripted.script(
        model,
        {
            "tool_calls": [
                {"id": "call_a", "name": "get_weather", "arguments": {"city": "Paris, France"}},
                {"id": "call_b", "name": "get_weather", "arguments": {"city": "Rome, Italy"}},
            ]
        },
        {"text": "Both sunny."},
    )
    frames = stream(http, f"/threads/{thread.id}/runs", {"assistant_id": assistant.id})
    assert squeeze([f.event for f in frames]) == [
        "thread.run.created",
        "thread.run.queued",
        "thread.run.in_progress",
        "thread.run.step.created",
        "thread.run.step.in_progress",
        "thread.run.step.delta*",
        "thread.run.requires_action",
        "done",
    ]
    step = frames[3].data
    assert step["type"] == "tool_calls" and step["step_details"]["tool_calls"] == []
    entries = [
        entry
        for f in frames
        if f.event == "thread.run.step.delta"
        for entry in f.data["delta"]["step_details"]["tool_calls"]
    ]
    firsts = [e for e in entries if "id" in e]
    assert firsts == [
        {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": "get_weather", "arguments": "", "output": None},
        }
        for index, call_id in ((0, "call_a"), (1, "call_b"))
    ]
    later = [e for e in entries if "id" not in e]
    assert all(set(e) == {"index", "type", "function"} for e in later)
    assert all(set(e["function"]) == {"arguments"} for e in later)
    by_index = {
        i: "".join(e["function"]["arguments"] for e in later if e["index"] == i) for i in (0, 1)
    }
    assert by_index == {0: '{"city": "Paris, France"}', 1: '{"city": "Rome, Italy"}'}
    # No delta before its step was created, and the parallel calls are in index order.
    assert [e["index"] for e in entries] == sorted(e["index"] for e in entries)

    run_id = frames[0].data["id"]
    outputs = [{"tool_call_id": c, "output": "sunny"} for c in ("call_a", "call_b")]
    after = stream(
        http,
        f"/threads/{thread.id}/runs/{run_id}/submit_tool_outputs",
        {"tool_outputs": outputs},
    )
    assert squeeze([f.event for f in after]) == [
        "thread.run.step.completed",
        "thread.run.queued",
        "thread.run.in_progress",
        *MESSAGE_STEP,
        "thread.run.completed",
        "done",
    ]
    assert after[0].id == frames[-2].id + 1  # one numbering for the whole run
    completed_calls = after[0].data["step_details"]["tool_calls"]
    assert [c["function"]["output"] for c in completed_calls] == ["sunny", "sunny"]


@pytest.mark.parametrize(
    ("body", "param"), [({"temperature": 3}, "temperature"), ({"assistant_id": "asst_x"}, None)]
)
def test_a_refused_request_is_a_json_error_not_a_stream(
    http: httpx.Client, assistant: Any, thread: Any, body: dict[str, Any], param: str | None
) -> None:
    response = http.post(
        f"/threads/{thread.id}/runs", json={"assistant_id": assistant.id, **body, "stream": True}
    )
    assert response.status_code in (400, 404)
    assert response.headers["content-type"].startswith("application/json")
    if param is not None:
        assert response.json()["error"]["param"] == param


def test_a_busy_thread_refuses_a_stream_with_a_json_400(
    http: httpx.Client, client: openai.OpenAI, scripted: Scripted, model: str, thread: Any
) -> None:
    assistant = client.beta.assistants.create(model=model, tools=[WEATHER])
    scripted.script(model, {"tool_calls": [{"name": "get_weather"}]})
    first = stream(http, f"/threads/{thread.id}/runs", {"assistant_id": assistant.id})
    assert first[-2].event == "thread.run.requires_action"
    response = http.post(
        f"/threads/{thread.id}/runs", json={"assistant_id": assistant.id, "stream": True}
    )
    assert response.status_code == 400
    assert "already has an active run" in response.json()["error"]["message"]
    client.beta.threads.runs.cancel(first[0].data["id"], thread_id=thread.id)
