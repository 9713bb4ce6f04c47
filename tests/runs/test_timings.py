"""``GET /v1/threads/{thread_id}/runs/{run_id}/timings`` (beyond OpenAI's API): where a run's
time went — queued, time to first token, the model's calls against the server's own work, and
the whole — in milliseconds, as the engine recorded them on the run."""

from __future__ import annotations

from typing import Any

import httpx
import openai

from tests.runs.conftest import Scripted, script_two_weather_calls, wait_for, weather_outputs

SLACK_MS = 50  # the engine's clocks (one per process) may disagree by a little


def timings(http: httpx.Client, thread_id: str, run_id: str) -> dict[str, Any]:
    response = http.get(f"/threads/{thread_id}/runs/{run_id}/timings")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_completed_runs_model_time_is_within_its_total(
    client: openai.OpenAI,
    http: httpx.Client,
    scripted: Scripted,
    model: str,
    assistant: Any,
    thread: Any,
) -> None:
    scripted.script(model, {"text": "Slow to start, then quick.", "first_token_delay_ms": 300})
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed"
    found = timings(http, thread.id, run.id)
    assert found["object"] == "thread.run.timings"
    assert found["run_id"] == run.id and found["thread_id"] == thread.id
    assert found["status"] == "completed"
    assert found["model_calls"] == 1
    assert 300 <= found["time_to_first_token_ms"] <= found["total_ms"]
    assert 300 <= found["model_ms"] <= found["total_ms"]
    assert found["queued_ms"] >= 0 and found["server_ms"] >= 0
    used = found["queued_ms"] + found["model_ms"] + found["server_ms"]
    assert used <= found["total_ms"] + SLACK_MS
    # Written when the run ended: asking again gives the same answer.
    assert timings(http, thread.id, run.id) == found


def test_time_waiting_for_tool_outputs_is_neither_model_nor_server_time(
    client: openai.OpenAI,
    http: httpx.Client,
    scripted: Scripted,
    model: str,
    thread: Any,
) -> None:
    script_two_weather_calls(scripted, model)
    assistant = client.beta.assistants.create(
        model=model,
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
    )
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action"
    waiting = timings(http, thread.id, run.id)
    assert waiting["status"] == "requires_action" and waiting["model_calls"] == 1
    import time

    time.sleep(0.4)  # the client thinks
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=weather_outputs()
    )
    assert run.status == "completed"
    found = timings(http, thread.id, run.id)
    assert found["model_calls"] == 2
    assert found["model_ms"] >= waiting["model_ms"]
    assert found["time_to_first_token_ms"] == waiting["time_to_first_token_ms"]
    busy = found["queued_ms"] + found["model_ms"] + found["server_ms"]
    assert busy + 400 <= found["total_ms"] + SLACK_MS


def test_a_run_still_going_counts_its_total_up_to_now(
    client: openai.OpenAI, http: httpx.Client, scripted: Scripted, model: str, assistant: Any,
    thread: Any,
) -> None:  # fmt: skip
    scripted.script(model, {"text": "and on ", "endless": True, "chunk_delay_ms": 50})
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_for(
        lambda: client.beta.threads.messages.list(thread.id, run_id=run.id).data,
        lambda messages: bool(messages),
    )  # fmt: skip  (the model is streaming)
    first = timings(http, thread.id, run.id)
    second = timings(http, thread.id, run.id)
    assert first["status"] == "in_progress" and first["queued_ms"] is not None
    assert second["total_ms"] >= first["total_ms"] > 0
    # A turn's figures are written with the turn's end (no write per token): not yet.
    assert first["model_calls"] == 0 and first["time_to_first_token_ms"] is None
    client.beta.threads.runs.cancel(run.id, thread_id=thread.id)
    run = wait_for(lambda: client.beta.threads.runs.retrieve(run.id, thread_id=thread.id),
                   lambda r: r.status == "cancelled")  # fmt: skip
    ended = timings(http, thread.id, run.id)
    assert ended["status"] == "cancelled" and ended["model_calls"] == 1
    assert 0 < ended["model_ms"] <= ended["total_ms"]
    assert ended["time_to_first_token_ms"] <= ended["model_ms"]


def test_unknown_runs_and_another_threads_runs_are_404(
    client: openai.OpenAI, http: httpx.Client, scripted: Scripted, model: str, assistant: Any,
    thread: Any,
) -> None:  # fmt: skip
    scripted.script(model, {"text": "ok"})
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    other = client.beta.threads.create()
    for path in (f"/threads/{thread.id}/runs/run_nope/timings",
                 f"/threads/{other.id}/runs/{run.id}/timings"):  # fmt: skip
        response = http.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "invalid_request_error"
