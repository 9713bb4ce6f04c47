"""Unscripted requests answer as a model constrained by the request would: the calls a
``tool_choice`` forces (arguments shaped by the tool's schema), JSON of a requested schema; and
a model scripted with a context window or without tools is described and refused as its
dialect's backend would."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai

CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS: list[Any] = [
    {"type": "function", "function": {"name": name, "parameters": CITY}}
    for name in ("get_weather", "get_time")
]
ASK = [{"role": "user", "content": "Oslo"}]


async def test_tool_choice_forces_calls_shaped_by_the_schema(
    sdk: openai.AsyncOpenAI, model: str
) -> None:
    named = await sdk.chat.completions.create(
        model=model,
        messages=ASK,
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    [call] = named.choices[0].message.tool_calls or []
    assert call.function.name == "get_time" and json.loads(call.function.arguments) == {
        "city": "Oslo"
    }
    required = await sdk.chat.completions.create(
        model=model, messages=ASK, tools=TOOLS, tool_choice="required"
    )
    names = [c.function.name for c in required.choices[0].message.tool_calls or []]
    assert names == ["get_weather", "get_time"]
    one = await sdk.chat.completions.create(
        model=model, messages=ASK, tools=TOOLS, tool_choice="required", parallel_tool_calls=False
    )
    assert len(one.choices[0].message.tool_calls or []) == 1
    auto = await sdk.chat.completions.create(model=model, messages=ASK, tools=TOOLS)
    assert auto.choices[0].message.tool_calls is None
    assert auto.choices[0].message.content == "Echo: Oslo"


async def test_a_json_schema_response_format_is_followed(
    sdk: openai.AsyncOpenAI, model: str
) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "n": {"type": "integer"}},
        "required": ["answer", "n"],
    }
    completion = await sdk.chat.completions.create(
        model=model,
        messages=ASK,
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    )
    assert json.loads(completion.choices[0].message.content or "") == {
        "answer": "Echo: Oslo",
        "n": 0,
    }


async def test_model_facts_are_reported_and_enforced_in_the_dialects_terms(
    server_url: str, model: str
) -> None:
    root = server_url.removesuffix("/v1")
    async with httpx.AsyncClient(base_url=root) as http:
        try:
            await _check_facts(http, model)
        finally:  # a sized model is listed: the other tests see the configured ids only
            (await http.delete("/_script", params={"model": model})).raise_for_status()


async def _check_facts(http: httpx.AsyncClient, model: str) -> None:
    script = {"model": model, "dialect": "vllm", "context_window": 50, "supports_tools": False}
    (await http.post("/_script", json=script)).raise_for_status()
    listed = (await http.get("/v1/models")).json()["data"]
    assert {"id": model, "max_model_len": 50, "owned_by": "vllm"}.items() <= next(
        entry for entry in listed if entry["id"] == model
    ).items()
    body = {"model": model, "messages": ASK, "tools": TOOLS}
    refused = await http.post("/v1/chat/completions", json=body)
    assert refused.status_code == 400
    assert "--enable-auto-tool-choice" in refused.json()["message"]
    long = {"model": model, "messages": [{"role": "user", "content": "word " * 200}]}
    assert (await http.post("/v1/chat/completions", json=long)).status_code == 400
    assert (await http.get("/props", params={"model": model})).status_code == 404

    ollama = {"model": model, "dialect": "ollama", "context_window": 8192}
    (await http.post("/_script", json=ollama)).raise_for_status()
    shown = (await http.post("/api/show", json={"model": model})).json()
    assert shown["parameters"] == "num_ctx 8192" and "tools" not in shown["capabilities"]
