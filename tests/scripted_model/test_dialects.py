"""The scripted model speaks a backend's dialect per model name: set with ``POST /_script``,
kept until the model is cleared, and for every model with ``--dialect``."""

from __future__ import annotations

import argparse
from typing import Any

import httpx
import orjson

from assistantd.scripted_model.command import add_arguments
from assistantd.scripted_model.testing import ScriptedModelClient

CALLS = {"tool_calls": [{"name": "f", "arguments": {"a": 1}}, {"name": "g", "arguments": {}}]}


async def _events(url: str, model: str, **body: Any) -> tuple[int, list[Any]]:
    request = {"model": model, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{url}/chat/completions", json=request | body)
    if answer.status_code != 200:
        return answer.status_code, [answer.json()]
    data = [line[6:] for line in answer.text.splitlines() if line.startswith("data: ")]
    return 200, [orjson.loads(d) for d in data if d != "[DONE]"]


def _tool_call_deltas(events: list[Any]) -> list[list[dict[str, Any]]]:
    return [
        e["choices"][0]["delta"]["tool_calls"]
        for e in events
        if e.get("choices") and "tool_calls" in e["choices"][0].get("delta", {})
    ]


async def test_a_models_dialect_changes_its_stream_until_it_is_cleared(
    server_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, CALLS, CALLS, dialect="ollama")
    _, events = await _events(server_url, model)
    [listed] = _tool_call_deltas(events)
    assert [c["function"]["name"] for c in listed] == ["f", "g"]
    assert all("index" not in c for c in listed)
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    assert events[0]["system_fingerprint"] == "fp_ollama"

    await scripted.clear(model)
    await scripted.script(model, CALLS)
    _, events = await _events(server_url, model)
    assert [d[0]["index"] for d in _tool_call_deltas(events)][:1] == [0]
    assert events[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_a_dialect_refuses_what_its_backend_refuses(
    server_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, dialect="tgi")
    status, [body] = await _events(server_url, model, stream_options={"include_usage": True})
    assert status == 422 and "stream_options" in body["error"]
    status, events = await _events(server_url, model)
    assert status == 200 and events[0]["model"] == "tgi"


async def test_an_unknown_dialect_is_a_400(server_url: str, model: str) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            server_url.removesuffix("/v1") + "/_script",
            json={"model": model, "responses": [], "dialect": "klingon"},
        )
    assert answer.status_code == 400 and "ollama" in answer.json()["error"]["message"]


def test_the_command_takes_a_dialect() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args([]).dialect == "openai"
    assert parser.parse_args(["--dialect", "gemini"]).dialect == "gemini"
